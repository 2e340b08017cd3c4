MATCH (s:Entity)-[r]->(t:Entity)
WHERE r.id > $after
  AND ($types IS NULL OR type(r) IN $types)
  AND ($source IS NULL OR s.id = $source)
  AND ($target IS NULL OR t.id = $target)
  AND ($node IS NULL OR s.id = $node OR t.id = $node)
  AND ($as_of IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= $as_of)
                      AND (r.valid_to IS NULL OR r.valid_to >= $as_of)))
WITH r ORDER BY r.id LIMIT $limit
RETURN collect({id: r.id, doc: r.doc}) AS rows
