MATCH (n:Entity {id: $id})-[r]-()
RETURN DISTINCT r.id AS id
