MERGE (m:SchemaMigration {version: $version})
SET m.name = $name, m.applied_at = datetime()
