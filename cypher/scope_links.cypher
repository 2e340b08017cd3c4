MATCH (s:Entity)-[r]->(t:Entity)
WHERE s.id IN $ids AND t.id IN $ids
  AND ($types IS NULL OR type(r) IN $types)
  AND ($as_of IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= $as_of)
                      AND (r.valid_to IS NULL OR r.valid_to >= $as_of)))
WITH r ORDER BY r.id
RETURN collect(r.doc) AS rows
