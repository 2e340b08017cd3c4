MATCH (a:Account) WHERE a.name IN $names
RETURN collect(a.doc) AS rows
