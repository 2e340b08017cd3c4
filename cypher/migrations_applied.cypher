MATCH (m:SchemaMigration) WITH m ORDER BY m.version
RETURN collect(m.version) AS rows
