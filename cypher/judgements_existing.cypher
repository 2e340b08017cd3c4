MATCH (j:Judgement) WHERE j.id IN $ids
RETURN collect(j.id) AS rows
