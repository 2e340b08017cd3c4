MATCH (k:ApiKey) WHERE k.id IN $ids
RETURN collect(k.doc) AS rows
