MATCH (:Entity)-[r]->(:Entity) WITH type(r) AS key, count(*) AS count
RETURN collect({key: key, count: count}) AS rows
