MATCH (n:Entity)
WHERE n.names_text CONTAINS $text
  AND ($labels IS NULL OR n.label IN $labels)
WITH n LIMIT $candidates
RETURN collect(n.doc) AS rows
