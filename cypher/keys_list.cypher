MATCH (k:ApiKey)
WHERE $account IS NULL OR k.account = $account
WITH k ORDER BY k.id
RETURN collect(k.doc) AS rows
