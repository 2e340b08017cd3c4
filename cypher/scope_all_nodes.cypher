MATCH (n:Entity) RETURN collect(n.id) AS rows
