// The union placeholder is links_by_id rendered for every registry link type, joined by UNION ALL.
CALL () {
{{union}}
}
RETURN collect({id: id, type: type, source: source, target: target, doc: doc}) AS rows
