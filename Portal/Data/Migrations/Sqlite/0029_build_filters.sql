-- Which branches a push or a new commit seen by polling builds by itself (a project without a row builds every branch):
-- branches, in the servers' pattern form ("main, release/*").
CREATE TABLE build_filters (
    project_id INTEGER NOT NULL PRIMARY KEY REFERENCES projects(id),
    branches TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
