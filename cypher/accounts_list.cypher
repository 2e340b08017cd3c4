MATCH (a:Account)
WITH a ORDER BY a.name
RETURN collect(a.doc) AS rows
