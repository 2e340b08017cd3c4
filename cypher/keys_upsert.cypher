// A key keeps its account and hash for life (checked before); only its document changes.
UNWIND $rows AS row
MERGE (k:ApiKey {id: row.id})
ON CREATE SET k.account = row.account, k.hash = row.hash
SET k.doc = row.doc
