RETURN [1] AS rows
