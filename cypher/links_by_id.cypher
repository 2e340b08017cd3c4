// Rendered once per registry type and joined with UNION ALL inside links_by_id_all.
MATCH (s:Entity)-[r:{{type}}]->(t:Entity) WHERE r.id IN $ids
RETURN r.id AS id, type(r) AS type, s.id AS source, t.id AS target, r.doc AS doc
