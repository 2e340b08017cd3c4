// Oldest first by id (ids start with their UTC time). $current keeps the latest version of
// each key, before the other filters apply.
MATCH (r:Record)
WHERE r.kind = $kind
  AND r.id > $after
  AND ($keys IS NULL OR r.key IN $keys)
  AND ($statuses IS NULL OR r.status IN $statuses)
  AND ($region IS NULL OR r.region STARTS WITH $region)
  AND (NOT $current OR NOT EXISTS {
        MATCH (later:Record) WHERE later.kind = r.kind AND later.key = r.key AND later.id > r.id
      })
WITH r ORDER BY r.id LIMIT $limit
RETURN collect({id: r.id, doc: r.doc}) AS rows
