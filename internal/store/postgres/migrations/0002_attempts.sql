-- Attempt counters for sign-in throttling (store.AttemptRule) and
-- single-use markers for sealed sign-in states (store.Tx.PutUseMarker).
-- Keys are keyed hashes, never typed user names.

CREATE TABLE attempt_counters (
	counter_key  TEXT COLLATE "C" PRIMARY KEY,
	attempts     BIGINT NOT NULL,
	delay        BIGINT NOT NULL,
	not_before   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX attempt_counters_expires ON attempt_counters (expires_at);

CREATE TABLE use_markers (
	marker_key   TEXT COLLATE "C" PRIMARY KEY,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX use_markers_expires ON use_markers (expires_at);
