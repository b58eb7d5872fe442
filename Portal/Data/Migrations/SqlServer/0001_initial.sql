-- Times are Unix milliseconds (UTC) in every table, so both dialects store them the same way.
CREATE TABLE users (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    name NVARCHAR(200) NOT NULL UNIQUE,
    password_hash NVARCHAR(400) NOT NULL,
    role NVARCHAR(20) NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name NVARCHAR(200) NOT NULL,
    token_hash NVARCHAR(100) NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE runners (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    name NVARCHAR(200) NOT NULL,
    token_hash NVARCHAR(100) NOT NULL UNIQUE,
    slots INT NOT NULL,
    version NVARCHAR(50) NOT NULL,
    executors NVARCHAR(400) NOT NULL,
    labels NVARCHAR(1000) NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    name NVARCHAR(200) NOT NULL,
    slug NVARCHAR(200) NOT NULL UNIQUE,
    git_url NVARCHAR(2000) NOT NULL,
    default_branch NVARCHAR(400) NOT NULL,
    is_public BIT NOT NULL,
    settings_json NVARCHAR(MAX) NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE branches (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name NVARCHAR(400) NOT NULL,
    head_sha NVARCHAR(64) NOT NULL,
    head_message NVARCHAR(MAX) NOT NULL,
    head_author NVARCHAR(400) NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE builds (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    branch NVARCHAR(400) NOT NULL,
    commit_sha NVARCHAR(64) NOT NULL,
    commit_message NVARCHAR(MAX) NOT NULL,
    commit_author NVARCHAR(400) NOT NULL,
    trigger_kind NVARCHAR(50) NOT NULL,
    triggered_by NVARCHAR(200) NULL,
    status NVARCHAR(20) NOT NULL,
    queued_at BIGINT NOT NULL,
    started_at BIGINT NULL,
    finished_at BIGINT NULL
);
CREATE INDEX ix_builds_project ON builds(project_id, id);
CREATE INDEX ix_builds_status ON builds(status);

CREATE TABLE jobs (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds(id),
    name NVARCHAR(200) NOT NULL,
    position INT NOT NULL,
    status NVARCHAR(20) NOT NULL,
    runner_id BIGINT NULL,
    lease_expires_at BIGINT NULL,
    cancel_requested BIT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    log_bytes BIGINT NOT NULL DEFAULT 0,
    error NVARCHAR(MAX) NULL,
    queued_at BIGINT NOT NULL,
    started_at BIGINT NULL,
    finished_at BIGINT NULL
);
CREATE INDEX ix_jobs_build ON jobs(build_id);
CREATE INDEX ix_jobs_status ON jobs(status, id);

CREATE TABLE commands (
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    idx INT NOT NULL,
    phase NVARCHAR(20) NOT NULL,
    text NVARCHAR(MAX) NOT NULL,
    status NVARCHAR(20) NOT NULL,
    started_at BIGINT NULL,
    duration_ms BIGINT NULL,
    exit_code INT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE log_chunks (
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    seq BIGINT NOT NULL,
    part INT NOT NULL,
    command_idx INT NULL,
    data VARBINARY(MAX) NOT NULL,
    PRIMARY KEY (job_id, seq, part)
);
