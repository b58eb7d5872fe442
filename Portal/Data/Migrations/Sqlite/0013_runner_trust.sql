-- Runners are trusted per claim and per pool.
-- sandbox: what confines the runner's jobs ('bubblewrap' or 'none'); a runner without one gets only private, non-fork jobs.
-- last_address: the remote address of the runner's last request (for the Runners page). revoked_at / revoked_by: an
-- admin revoked the runner; its token is refused from then on.
ALTER TABLE runners ADD COLUMN sandbox TEXT NOT NULL DEFAULT 'none';
ALTER TABLE runners ADD COLUMN last_address TEXT NULL;
ALTER TABLE runners ADD COLUMN revoked_at INTEGER NULL;
ALTER TABLE runners ADD COLUMN revoked_by TEXT NULL;

-- The SHA-256 of the lease token handed out with a claim: streams, completion, reports and heartbeats of the job carry it.
ALTER TABLE jobs ADD COLUMN lease_hash TEXT NULL;

-- Runner labels (comma-separated) a project's jobs need, and those its builds of fork pull requests need on top.
ALTER TABLE projects ADD COLUMN runner_labels TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN fork_runner_labels TEXT NOT NULL DEFAULT '';

-- Runner labels a server's deploys need (a guarded server's deploys also need 'protected').
ALTER TABLE servers ADD COLUMN runner_labels TEXT NOT NULL DEFAULT '';
