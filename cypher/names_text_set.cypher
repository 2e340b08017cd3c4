UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n.names_text = row.names_text
