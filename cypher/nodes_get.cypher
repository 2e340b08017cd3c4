MATCH (n:Entity) WHERE n.id IN $ids
RETURN collect(n.doc) AS rows
