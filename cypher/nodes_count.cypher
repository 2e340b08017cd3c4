MATCH (n:Entity)
WHERE ($labels IS NULL OR n.label IN $labels)
  AND ($kinds IS NULL OR n.kind IN $kinds)
  AND ($region_code IS NULL OR n.region_code STARTS WITH $region_code)
  AND ($as_of IS NULL OR ((n.valid_from IS NULL OR n.valid_from <= $as_of)
                      AND (n.valid_to IS NULL OR n.valid_to >= $as_of)))
WITH n.label AS label, count(*) AS count
RETURN collect({key: label, count: count}) AS rows
