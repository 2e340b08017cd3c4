OPTIONAL MATCH (m:GraphMeta {key: 'data'})
RETURN [coalesce(m.version, 0)] AS rows
