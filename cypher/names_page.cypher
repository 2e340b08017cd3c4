// A page of nodes' names and aliases in id order, to fold their names_text again.
MATCH (n:Entity) WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $limit
RETURN collect({id: n.id, name: n.name, aliases: n.aliases}) AS rows
