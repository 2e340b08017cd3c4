MATCH (n:Entity) WITH n.label AS key, count(*) AS count
RETURN collect({key: key, count: count}) AS rows
