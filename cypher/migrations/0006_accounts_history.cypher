// Accounts, their API keys and the edit history live beside the graph, without :Entity, so
// no graph query ever sees them. History entries are created, never merged or set again.
CREATE CONSTRAINT account_name IF NOT EXISTS FOR (a:Account) REQUIRE a.name IS UNIQUE;
CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE;
CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE;
CREATE INDEX api_key_account IF NOT EXISTS FOR (k:ApiKey) ON (k.account);
CREATE CONSTRAINT history_entry_id IF NOT EXISTS FOR (h:HistoryEntry) REQUIRE h.id IS UNIQUE;
CREATE INDEX history_entry_entity IF NOT EXISTS FOR (h:HistoryEntry) ON (h.entity, h.entity_id);
CREATE INDEX history_entry_account IF NOT EXISTS FOR (h:HistoryEntry) ON (h.account);
CREATE INDEX history_entry_at IF NOT EXISTS FOR (h:HistoryEntry) ON (h.at);
CREATE INDEX history_entry_region_a IF NOT EXISTS FOR (h:HistoryEntry) ON (h.region_a);
CREATE INDEX history_entry_region_b IF NOT EXISTS FOR (h:HistoryEntry) ON (h.region_b)
