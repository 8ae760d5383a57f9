-- A key-value cache with expiry, for answers worth keeping for a while but
-- not for ever, such as literature searches from online services. Keys are
-- chosen by the caller ("lit/<service>/<k>/<query>"). An expired entry is
-- a miss; it is deleted when next read, and all expired entries whenever
-- one is written.

CREATE TABLE cache (
	key        TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	expires_at TEXT NOT NULL             -- same format as every time in the store
) STRICT;

CREATE INDEX cache_expires ON cache (expires_at);
