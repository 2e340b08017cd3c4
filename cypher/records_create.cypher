// Append-only: CREATE, never MERGE (the uniqueness constraint refuses a repeated id).
UNWIND $rows AS row
CREATE (r:Record)
SET r = row
