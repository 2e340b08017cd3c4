// The bound in the pattern is the API's maximum (8); $max_depth narrows it.
MATCH (a:Entity {id: $source}), (b:Entity {id: $target})
MATCH p = allShortestPaths((a)-[*..8]-(b))
WHERE length(p) <= $max_depth
  AND all(r IN relationships(p) WHERE ($types IS NULL OR type(r) IN $types)
      AND ($as_of IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= $as_of)
                          AND (r.valid_to IS NULL OR r.valid_to >= $as_of))))
  AND all(n IN nodes(p) WHERE $as_of IS NULL OR ((n.valid_from IS NULL OR n.valid_from <= $as_of)
                                            AND (n.valid_to IS NULL OR n.valid_to >= $as_of)))
WITH p LIMIT $limit
RETURN collect({node_ids: [n IN nodes(p) | n.id], link_ids: [r IN relationships(p) | r.id]}) AS rows
