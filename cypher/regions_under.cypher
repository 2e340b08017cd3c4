MATCH (r:Region)
WHERE r.region_code STARTS WITH $region_code AND size(r.region_code) = $length
RETURN r.id AS id, r.region_code AS region_code, r.name AS name
ORDER BY r.region_code
