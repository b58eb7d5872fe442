-- Deploy targets of a project. trigger_mode is automatic (after a passed build of a matching branch) or manual
-- (requested by people, from matching branches). branch_pattern is a branch name or a pattern with '*'; empty means
-- any branch (manual servers only). deployers is members (members and admins) or admins. approvals is how many
-- people other than the requester must approve a deploy before it runs. A cordoned server starts no deploy.
CREATE TABLE servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL COLLATE NOCASE,
    commands_json TEXT NOT NULL,
    trigger_mode TEXT NOT NULL,
    branch_pattern TEXT NOT NULL,
    deployers TEXT NOT NULL,
    approvals INTEGER NOT NULL,
    cordoned INTEGER NOT NULL DEFAULT 0,
    cordon_reason TEXT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (project_id, name)
);

-- One deploy of a build's commit to a server. status: awaiting_approval, queued (approved, waiting for its turn or
-- for the server to be uncordoned), running (its job exists), passed, failed, canceled, rejected.
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id INTEGER NOT NULL REFERENCES servers(id),
    build_id INTEGER NOT NULL REFERENCES builds(id),
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    approvals_required INTEGER NOT NULL,
    job_id INTEGER NULL REFERENCES jobs(id),
    started_at INTEGER NULL,
    finished_at INTEGER NULL,
    note TEXT NULL
);
CREATE INDEX ix_deploys_server ON deploys(server_id, id);
CREATE INDEX ix_deploys_status ON deploys(status, id);
CREATE INDEX ix_deploys_job ON deploys(job_id);

-- Each person's decision on a deploy: approved or rejected, once.
CREATE TABLE deploy_approvals (
    deploy_id INTEGER NOT NULL REFERENCES deploys(id),
    user_name TEXT NOT NULL COLLATE NOCASE,
    decision TEXT NOT NULL,
    comment TEXT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (deploy_id, user_name)
);

-- A deploy runs as a job of the build it deploys (so it checks out that exact commit); deploy_id marks such a job,
-- which never counts toward its build's status.
ALTER TABLE jobs ADD COLUMN deploy_id INTEGER NULL;

-- A build of a pull request from a fork runs untrusted code: it gets no secrets and cannot be deployed.
ALTER TABLE builds ADD COLUMN from_fork INTEGER NOT NULL DEFAULT 0;
