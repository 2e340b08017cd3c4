// One data-version node: concurrent writers MERGE it, so its key must be unique (without
// the constraint two first writers could each create one).
CREATE CONSTRAINT graph_meta_key IF NOT EXISTS FOR (m:GraphMeta) REQUIRE m.key IS UNIQUE
