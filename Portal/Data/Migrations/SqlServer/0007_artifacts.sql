-- A running job's token for its own shell (kaizen artifact ...): only its hash, and it works only while the job runs.
ALTER TABLE jobs ADD token_hash NVARCHAR(64) NULL;
GO
CREATE INDEX ix_jobs_token ON jobs(token_hash);

-- Files that jobs and deploys publish. scope: 'job' and 'build' (kept until expires_at), 'project' (the project's
-- downloads, kept until deleted or superseded). The bytes live in the artifact storage under storage_key.
CREATE TABLE artifacts (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    build_id BIGINT NULL REFERENCES builds(id),
    job_id BIGINT NULL REFERENCES jobs(id),
    scope NVARCHAR(16) NOT NULL,
    name NVARCHAR(400) NOT NULL,
    folder BIT NOT NULL DEFAULT 0,
    storage_key NVARCHAR(200) NOT NULL,
    size BIGINT NOT NULL,
    sha256 NVARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NULL
);
CREATE INDEX ix_artifacts_build ON artifacts(build_id, name);
CREATE INDEX ix_artifacts_project ON artifacts(project_id, scope, name);
CREATE INDEX ix_artifacts_expires ON artifacts(expires_at);
