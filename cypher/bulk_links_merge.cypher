// Bulk loader, rows that may be stored already: the same properties as links_upsert.
UNWIND $rows AS row
MATCH (s:Entity {id: row[1]})
MATCH (t:Entity {id: row[2]})
MERGE (s)-[r:{{type}} {id: row[0]}]->(t)
SET r.valid_from = row[3], r.valid_to = row[4], r.doc = row[5]
RETURN count(*) AS written
