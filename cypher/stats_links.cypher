MATCH (:Entity)-[r]->(:Entity) RETURN type(r) AS key, count(*) AS count
