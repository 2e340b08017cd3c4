// A region's nodes, and the placeless nodes (industries, programs) its nodes link to.
CALL () {
  MATCH (n:Entity) WHERE n.region_code STARTS WITH $region_code
  RETURN n.id AS id
  UNION
  MATCH (n:Entity)-[]-(m:Entity)
  WHERE n.region_code STARTS WITH $region_code AND m.region_code IS NULL
  RETURN m.id AS id
}
RETURN collect(id) AS rows
