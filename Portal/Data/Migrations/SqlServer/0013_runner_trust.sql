-- Runners are trusted per claim and per pool.
-- sandbox: what confines the runner's jobs ('bubblewrap' or 'none'); a runner without one gets only private, non-fork jobs.
-- last_address: the remote address of the runner's last request (for the Runners page). revoked_at / revoked_by: an
-- admin revoked the runner; its token is refused from then on.
ALTER TABLE runners ADD sandbox NVARCHAR(32) NOT NULL DEFAULT 'none';
ALTER TABLE runners ADD last_address NVARCHAR(64) NULL;
ALTER TABLE runners ADD revoked_at BIGINT NULL;
ALTER TABLE runners ADD revoked_by NVARCHAR(200) NULL;

-- The SHA-256 of the lease token handed out with a claim: streams, completion, reports and heartbeats of the job carry it.
ALTER TABLE jobs ADD lease_hash NVARCHAR(128) NULL;

-- Runner labels (comma-separated) a project's jobs need, and those its builds of fork pull requests need on top.
ALTER TABLE projects ADD runner_labels NVARCHAR(1000) NOT NULL DEFAULT '';
ALTER TABLE projects ADD fork_runner_labels NVARCHAR(1000) NOT NULL DEFAULT '';

-- Runner labels a server's deploys need (a guarded server's deploys also need 'protected').
ALTER TABLE servers ADD runner_labels NVARCHAR(1000) NOT NULL DEFAULT '';
