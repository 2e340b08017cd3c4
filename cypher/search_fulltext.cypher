CALL db.index.fulltext.queryNodes('entity_names', $query, {limit: $candidates})
YIELD node, score
WHERE ($labels IS NULL OR node.label IN $labels)
RETURN collect(node.doc) AS rows
