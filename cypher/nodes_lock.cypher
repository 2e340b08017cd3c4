// Setting a property takes the node's write lock until the transaction ends (the value is
// unchanged): a batch reads what it replaces only after holding it.
MATCH (n:Entity) WHERE n.id IN $ids
SET n.doc = n.doc
