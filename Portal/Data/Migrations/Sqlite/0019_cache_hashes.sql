-- sha256: the SHA-256 of an entry's stored bytes (hex), taken as they arrive. A runner keeps copies of the entries it
-- restored and uses one only when its bytes hash to this; entries stored before this have none, and are always sent.
ALTER TABLE cache_entries ADD COLUMN sha256 TEXT NULL;
