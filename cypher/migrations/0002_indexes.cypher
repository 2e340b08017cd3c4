// What reads filter and sort on: label, kind, division code, validity dates.
CREATE INDEX entity_label_kind IF NOT EXISTS FOR (n:Entity) ON (n.label, n.kind);
CREATE INDEX entity_kind IF NOT EXISTS FOR (n:Entity) ON (n.kind);
CREATE INDEX entity_region_code IF NOT EXISTS FOR (n:Entity) ON (n.region_code);
CREATE INDEX entity_valid_from IF NOT EXISTS FOR (n:Entity) ON (n.valid_from);
CREATE INDEX entity_valid_to IF NOT EXISTS FOR (n:Entity) ON (n.valid_to);
CREATE INDEX {{type}}_valid_from IF NOT EXISTS FOR ()-[r:{{type}}]-() ON (r.valid_from);
CREATE INDEX {{type}}_valid_to IF NOT EXISTS FOR ()-[r:{{type}}]-() ON (r.valid_to);
// Substring fallback for one-character queries the cjk analyzer cannot match.
CREATE TEXT INDEX entity_names_text IF NOT EXISTS FOR (n:Entity) ON (n.names_text)
