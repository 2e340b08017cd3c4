// Append-only: CREATE, never MERGE (the uniqueness constraint refuses a repeated id), and no
// statement in this directory sets or deletes a :HistoryEntry.
UNWIND $rows AS row
CREATE (h:HistoryEntry)
SET h = row
