MATCH (r:Region)
WHERE r.region_code STARTS WITH $region_code AND size(r.region_code) = $length
WITH r ORDER BY r.region_code
RETURN collect({id: r.id, region_code: r.region_code, name: r.name}) AS rows
