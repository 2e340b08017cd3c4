// Every link at each of $ids, either end, any type and dates (record-time reads replay the
// history on this adjacency). Rows are collected into one record, as the neighbours_* do.
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[r]-()
WITH id, r ORDER BY id, r.id
RETURN collect({node: id, id: r.id, doc: r.doc}) AS rows
