-- Dependency caches shared by every runner (kaizen cache store|restore). One row per stored key of a project; a key is
-- written once and never overwritten (the unique index makes the first complete upload win). The archive lives in the
-- caches area of the blob storage under storage_key. name groups a cache's keys ("deps" for deps-1a2b...). Keys and
-- names compare case-sensitively, as on SQLite and in the runner.
CREATE TABLE cache_entries (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    cache_key NVARCHAR(256) COLLATE Latin1_General_BIN2 NOT NULL,
    name NVARCHAR(256) COLLATE Latin1_General_BIN2 NOT NULL,
    storage_key NVARCHAR(200) NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    hits BIGINT NOT NULL DEFAULT 0,
    build_id BIGINT NULL,
    job_id BIGINT NULL
);
CREATE UNIQUE INDEX ux_cache_entries_key ON cache_entries(project_id, cache_key);
CREATE INDEX ix_cache_entries_used ON cache_entries(project_id, last_used_at);

-- Restores per cache name: an exact key, a fallback key, or nothing (a miss has no entry to count on).
CREATE TABLE cache_stats (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name NVARCHAR(256) COLLATE Latin1_General_BIN2 NOT NULL,
    exact_hits BIGINT NOT NULL DEFAULT 0,
    fallback_hits BIGINT NOT NULL DEFAULT 0,
    misses BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, name)
);
