UNWIND $rows AS row
MERGE (a:Account {name: row.name})
SET a.role = row.role, a.scope = row.scope, a.doc = row.doc
