-- Deploy targets of a project. trigger_mode is automatic (after a passed build of a matching branch) or manual
-- (requested by people, from matching branches). branch_pattern is a branch name or a pattern with '*'; empty means
-- any branch (manual servers only). deployers is members (members and admins) or admins. approvals is how many
-- people other than the requester must approve a deploy before it runs. A cordoned server starts no deploy.
CREATE TABLE servers (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name NVARCHAR(100) NOT NULL,
    commands_json NVARCHAR(MAX) NOT NULL,
    trigger_mode NVARCHAR(20) NOT NULL,
    branch_pattern NVARCHAR(400) NOT NULL,
    deployers NVARCHAR(20) NOT NULL,
    approvals INT NOT NULL,
    cordoned BIT NOT NULL DEFAULT 0,
    cordon_reason NVARCHAR(1000) NULL,
    created_at BIGINT NOT NULL,
    created_by NVARCHAR(200) NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by NVARCHAR(200) NOT NULL,
    CONSTRAINT uq_servers_project_name UNIQUE (project_id, name)
);

-- One deploy of a build's commit to a server. status: awaiting_approval, queued (approved, waiting for its turn or
-- for the server to be uncordoned), running (its job exists), passed, failed, canceled, rejected.
CREATE TABLE deploys (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES servers(id),
    build_id BIGINT NOT NULL REFERENCES builds(id),
    status NVARCHAR(30) NOT NULL,
    trigger_kind NVARCHAR(20) NOT NULL,
    requested_by NVARCHAR(200) NOT NULL,
    requested_at BIGINT NOT NULL,
    approvals_required INT NOT NULL,
    job_id BIGINT NULL REFERENCES jobs(id),
    started_at BIGINT NULL,
    finished_at BIGINT NULL,
    note NVARCHAR(2000) NULL
);
CREATE INDEX ix_deploys_server ON deploys(server_id, id);
CREATE INDEX ix_deploys_status ON deploys(status, id);
CREATE INDEX ix_deploys_job ON deploys(job_id);

-- Each person's decision on a deploy: approved or rejected, once.
CREATE TABLE deploy_approvals (
    deploy_id BIGINT NOT NULL REFERENCES deploys(id),
    user_name NVARCHAR(200) NOT NULL,
    decision NVARCHAR(20) NOT NULL,
    comment NVARCHAR(2000) NULL,
    at BIGINT NOT NULL,
    CONSTRAINT pk_deploy_approvals PRIMARY KEY (deploy_id, user_name)
);

-- A deploy runs as a job of the build it deploys (so it checks out that exact commit); deploy_id marks such a job,
-- which never counts toward its build's status.
ALTER TABLE jobs ADD deploy_id BIGINT NULL;

-- A build of a pull request from a fork runs untrusted code: it gets no secrets and cannot be deployed.
ALTER TABLE builds ADD from_fork BIT NOT NULL DEFAULT 0;
