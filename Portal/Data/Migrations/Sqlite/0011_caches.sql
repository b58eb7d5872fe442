-- Dependency caches shared by every runner (kaizen cache store|restore). One row per stored key of a project; a key is
-- written once and never overwritten (the unique index makes the first complete upload win). The archive lives in the
-- caches area of the blob storage under storage_key. name groups a cache's keys ("deps" for deps-1a2b...).
CREATE TABLE cache_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    cache_key TEXT NOT NULL,
    name TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    build_id INTEGER NULL,
    job_id INTEGER NULL
);
CREATE UNIQUE INDEX ux_cache_entries_key ON cache_entries(project_id, cache_key);
CREATE INDEX ix_cache_entries_used ON cache_entries(project_id, last_used_at);

-- Restores per cache name: an exact key, a fallback key, or nothing (a miss has no entry to count on).
CREATE TABLE cache_stats (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    exact_hits INTEGER NOT NULL DEFAULT 0,
    fallback_hits INTEGER NOT NULL DEFAULT 0,
    misses INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, name)
);
