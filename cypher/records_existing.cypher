MATCH (r:Record) WHERE r.id IN $ids
RETURN collect(r.id) AS rows
