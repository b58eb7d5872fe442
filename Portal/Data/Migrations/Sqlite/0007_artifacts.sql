-- A running job's token for its own shell (kaizen artifact ...): only its hash, and it works only while the job runs.
ALTER TABLE jobs ADD COLUMN token_hash TEXT NULL;
CREATE INDEX ix_jobs_token ON jobs(token_hash);

-- Files that jobs and deploys publish. scope: 'job' and 'build' (kept until expires_at), 'project' (the project's
-- downloads, kept until deleted or superseded). The bytes live in the artifact storage under storage_key.
CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    build_id INTEGER NULL REFERENCES builds(id),
    job_id INTEGER NULL REFERENCES jobs(id),
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    folder INTEGER NOT NULL DEFAULT 0,
    storage_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NULL
);
CREATE INDEX ix_artifacts_build ON artifacts(build_id, name);
CREATE INDEX ix_artifacts_project ON artifacts(project_id, scope, name);
CREATE INDEX ix_artifacts_expires ON artifacts(expires_at);
