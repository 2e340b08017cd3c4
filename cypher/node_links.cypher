MATCH (n:Entity {id: $id})-[r]-()
RETURN collect(DISTINCT r.id) AS rows
