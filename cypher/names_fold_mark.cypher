MERGE (m:GraphMeta {key: 'search'})
SET m.fold = $fold
