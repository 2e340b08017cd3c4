UNWIND $ids AS id
MATCH (n:Entity {id: id})-[r]->(m:Entity)
WHERE ($types IS NULL OR type(r) IN $types)
  AND ($as_of IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= $as_of)
                      AND (r.valid_to IS NULL OR r.valid_to >= $as_of)))
RETURN id AS from_id, r.id AS link_id, r.doc AS link, m.id AS other_id, m.doc AS other
ORDER BY from_id, link_id
