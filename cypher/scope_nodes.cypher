MATCH (n:Entity) WHERE n.id IN $ids
  AND ($as_of IS NULL OR ((n.valid_from IS NULL OR n.valid_from <= $as_of)
                      AND (n.valid_to IS NULL OR n.valid_to >= $as_of)))
RETURN collect(n.doc) AS rows
