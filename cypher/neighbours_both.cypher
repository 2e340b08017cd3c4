// Rows are collected into one record: the driver decodes one big list far faster than
// many small records.
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[r]-(m:Entity)
WHERE ($types IS NULL OR type(r) IN $types)
  AND ($as_of IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= $as_of)
                      AND (r.valid_to IS NULL OR r.valid_to >= $as_of)))
WITH id, r, m ORDER BY id, r.id
RETURN collect({from_id: id, link_id: r.id, link: r.doc, other_id: m.id, other: m.doc}) AS rows
