// Tests only: empty the graph, keeping the migration record.
MATCH (n) WHERE NOT n:SchemaMigration
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
