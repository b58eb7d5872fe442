-- Which branches a push or a new commit seen by polling builds by itself (a project without a row builds every branch):
-- branches, in the servers' pattern form ("main, release/*").
CREATE TABLE build_filters (
    project_id BIGINT NOT NULL PRIMARY KEY REFERENCES projects(id),
    branches NVARCHAR(400) NOT NULL,
    changed_by NVARCHAR(200) NOT NULL,
    changed_at BIGINT NOT NULL
);
