// Oldest first by id (ids start with their UTC time). $current keeps the latest judgement
// of each pair, before the other filters apply.
MATCH (j:Judgement)
WHERE j.id > $after
  AND ($ids IS NULL OR j.id IN $ids)
  AND ($target IS NULL OR j.target = $target)
  AND ($partner IS NULL OR j.partner = $partner)
  AND ($node IS NULL OR j.target = $node OR j.partner = $node)
  AND ($decisions IS NULL OR j.decision IN $decisions)
  AND ($decided_by IS NULL OR j.decided_by = $decided_by)
  AND ($since IS NULL OR j.decided_at >= $since)
  AND ($until IS NULL OR j.decided_at <= $until)
  AND (NOT $current OR NOT EXISTS {
        MATCH (later:Judgement) WHERE later.pair = j.pair AND later.id > j.id
      })
WITH j ORDER BY j.id LIMIT $limit
RETURN collect({id: j.id, doc: j.doc}) AS rows
