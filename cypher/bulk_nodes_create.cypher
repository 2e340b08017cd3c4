// Bulk loader, rows proven unwritten: one registry label per call ({{label}} from the
// registry only). A row is a list, leaner to send than a map: see Neo4jGraphStore.bulk_write.
UNWIND $rows AS row
CREATE (n:Entity:{{label}} {id: row[0], label: $label, kind: row[1], name: row[2],
  region_code: row[3], valid_from: row[4], valid_to: row[5], aliases: row[6],
  names_text: row[7], doc: row[8]})
