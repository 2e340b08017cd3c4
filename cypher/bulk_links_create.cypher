// Bulk loader, rows proven unwritten: one registry link type per call. A row whose ends are
// not both stored writes nothing: the count tells the caller.
UNWIND $rows AS row
MATCH (s:Entity {id: row[1]})
MATCH (t:Entity {id: row[2]})
CREATE (s)-[:{{type}} {id: row[0], valid_from: row[3], valid_to: row[4], doc: row[5]}]->(t)
RETURN count(*) AS written
