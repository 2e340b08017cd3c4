// Bulk loader, rows that may be stored already: the same properties as nodes_upsert.
UNWIND $rows AS row
MERGE (n:Entity {id: row[0]})
ON CREATE SET n:{{label}}
SET n.label = $label, n.kind = row[1], n.name = row[2], n.region_code = row[3],
  n.valid_from = row[4], n.valid_to = row[5], n.aliases = row[6], n.names_text = row[7],
  n.doc = row[8]
