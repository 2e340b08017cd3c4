MATCH (n:Entity) WHERE n.id IN $ids
RETURN collect({id: n.id, label: n.label}) AS rows
