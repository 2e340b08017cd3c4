// The nodes whose id or own division code (Region, Village) is the whole query.
CALL {
  MATCH (n:Entity) WHERE n.id IN $ids RETURN n
  UNION
  MATCH (n:Entity) WHERE n.region_code = $code AND n.label IN $code_labels RETURN n
}
WITH n WHERE $labels IS NULL OR n.label IN $labels
RETURN collect(n.doc) AS rows
