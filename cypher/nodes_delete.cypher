MATCH (n:Entity) WHERE n.id IN $ids
DETACH DELETE n
