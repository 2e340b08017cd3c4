// The version of search_text.fold the stored names_text were made with (none: before any).
OPTIONAL MATCH (m:GraphMeta {key: 'search'})
RETURN [m.fold] AS rows
