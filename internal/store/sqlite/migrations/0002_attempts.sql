-- Attempt counters for sign-in throttling (store.AttemptRule) and
-- single-use markers for sealed sign-in states (store.Tx.PutUseMarker).
-- Keys are keyed hashes, never typed user names.

CREATE TABLE attempt_counters (
	counter_key  TEXT PRIMARY KEY,
	attempts     INTEGER NOT NULL,
	delay        INTEGER NOT NULL,
	not_before   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX attempt_counters_expires ON attempt_counters (expires_at);

CREATE TABLE use_markers (
	marker_key   TEXT PRIMARY KEY,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX use_markers_expires ON use_markers (expires_at);
