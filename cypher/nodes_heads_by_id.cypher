MATCH (n:Entity) WHERE n.id IN $ids
RETURN collect({id: n.id, label: n.label, region_code: n.region_code}) AS rows
