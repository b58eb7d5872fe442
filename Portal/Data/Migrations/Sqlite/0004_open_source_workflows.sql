-- badge_token lets a private project's badge be shown (the URL carries it); NULL until an admin creates one.
-- webhook_secret is the GitHub webhook secret as Data Protection ciphertext. github_repository ("owner/name") is
-- what webhooks and commit statuses are matched by. fork_secrets is a JSON array of secret names that builds of
-- pull requests from forks may receive (empty: none, the default).
ALTER TABLE projects ADD COLUMN badge_token TEXT NULL;
ALTER TABLE projects ADD COLUMN webhook_secret TEXT NULL;
ALTER TABLE projects ADD COLUMN github_repository TEXT NULL COLLATE NOCASE;
ALTER TABLE projects ADD COLUMN fork_secrets TEXT NOT NULL DEFAULT '[]';

-- A build of a pull request: its number and where its head comes from ("owner/branch").
ALTER TABLE builds ADD COLUMN pull_request INTEGER NULL;
ALTER TABLE builds ADD COLUMN pull_request_source TEXT NULL;

-- Every webhook delivery received, with what came of it (for the project page and for troubleshooting).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NULL REFERENCES projects(id),
    delivery_id TEXT NULL,
    event TEXT NOT NULL,
    action TEXT NULL,
    received_at INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX ix_webhook_deliveries_project ON webhook_deliveries(project_id, id);

ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER NULL;
