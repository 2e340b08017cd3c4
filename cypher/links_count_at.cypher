MATCH (n:Entity {id: $id})
RETURN [COUNT { (n)-[]-() }] AS rows
