MATCH (n:Entity)
WHERE n.names_text CONTAINS $text
  AND ($labels IS NULL OR n.label IN $labels)
RETURN n.doc AS doc
LIMIT $candidates
