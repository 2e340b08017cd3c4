OPTIONAL MATCH (m:GraphMeta {key: 'data'})
RETURN [coalesce(max(m.version), 0)] AS rows
