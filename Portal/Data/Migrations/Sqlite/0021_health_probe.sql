-- health_probe: one row the health check rewrites, so /healthz knows whether the database still takes writes (a full
-- disk, a read-only file) and not only whether it opens.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    checked_at INTEGER NOT NULL
);
INSERT INTO health_probe (id, checked_at) VALUES (1, 0);
