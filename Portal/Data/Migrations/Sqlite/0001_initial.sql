-- Times are Unix milliseconds (UTC) in every table, so both dialects store them the same way.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE runners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    slots INTEGER NOT NULL,
    version TEXT NOT NULL,
    executors TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    git_url TEXT NOT NULL,
    default_branch TEXT NOT NULL,
    is_public INTEGER NOT NULL,
    settings_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE branches (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    head_message TEXT NOT NULL,
    head_author TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    branch TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    commit_message TEXT NOT NULL,
    commit_author TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    triggered_by TEXT NULL,
    status TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    started_at INTEGER NULL,
    finished_at INTEGER NULL
);
CREATE INDEX ix_builds_project ON builds(project_id, id);
CREATE INDEX ix_builds_status ON builds(status);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    runner_id INTEGER NULL,
    lease_expires_at INTEGER NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT NULL,
    queued_at INTEGER NOT NULL,
    started_at INTEGER NULL,
    finished_at INTEGER NULL
);
CREATE INDEX ix_jobs_build ON jobs(build_id);
CREATE INDEX ix_jobs_status ON jobs(status, id);

CREATE TABLE commands (
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    phase TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NULL,
    duration_ms INTEGER NULL,
    exit_code INTEGER NULL,
    PRIMARY KEY (job_id, idx)
);

-- One row per piece of output; command_idx is NULL for job-level output (checkout, runner notes).
CREATE TABLE log_chunks (
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    part INTEGER NOT NULL,
    command_idx INTEGER NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq, part)
);
