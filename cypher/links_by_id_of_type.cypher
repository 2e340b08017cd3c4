// Links of one registry type by id (ids derived from type and ends can only be of that type).
MATCH (s)-[r:{{type}}]->(t) WHERE r.id IN $ids
RETURN collect({id: r.id, type: type(r), source: s.id, target: t.id, doc: r.doc}) AS rows
