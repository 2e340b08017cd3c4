MERGE (m:GraphMeta {key: 'data'})
SET m.version = coalesce(m.version, 0) + 1
RETURN m.version AS version
