// One registry label per call: {{label}} comes from the schema registry only.
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
ON CREATE SET n:{{label}}
SET n += row.props
