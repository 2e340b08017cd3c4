// Records beside the graph (review queue, identity judgements, merges, imports, mappings),
// without :Entity, so no graph query sees them. Append-only versions of a (kind, key).
CREATE CONSTRAINT record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE;
CREATE INDEX record_key IF NOT EXISTS FOR (r:Record) ON (r.kind, r.key);
CREATE INDEX record_status IF NOT EXISTS FOR (r:Record) ON (r.kind, r.status)
