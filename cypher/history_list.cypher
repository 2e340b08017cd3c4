// ASC by id (ids are time-ordered). A region matches the entries touching a code under it.
MATCH (h:HistoryEntry)
WHERE h.id > $after
  AND ($entity IS NULL OR h.entity = $entity)
  AND ($entity_id IS NULL OR h.entity_id = $entity_id)
  AND ($account IS NULL OR h.account = $account)
  AND ($operation IS NULL OR h.operation = $operation)
  AND ($region IS NULL OR h.region_a STARTS WITH $region OR h.region_b STARTS WITH $region)
  AND ($since IS NULL OR h.at >= $since)
  AND ($until IS NULL OR h.at <= $until)
WITH h ORDER BY h.id LIMIT $limit
RETURN collect({id: h.id, doc: h.doc}) AS rows
