MATCH (n:Entity) RETURN n.id AS id
