-- badge_token lets a private project's badge be shown (the URL carries it); NULL until an admin creates one.
-- webhook_secret is the GitHub webhook secret as Data Protection ciphertext. github_repository ("owner/name") is
-- what webhooks and commit statuses are matched by. fork_secrets is a JSON array of secret names that builds of
-- pull requests from forks may receive (empty: none, the default).
ALTER TABLE projects ADD badge_token NVARCHAR(100) NULL;
ALTER TABLE projects ADD webhook_secret NVARCHAR(MAX) NULL;
ALTER TABLE projects ADD github_repository NVARCHAR(200) NULL;
ALTER TABLE projects ADD fork_secrets NVARCHAR(MAX) NOT NULL DEFAULT '[]';

-- A build of a pull request: its number and where its head comes from ("owner/branch").
ALTER TABLE builds ADD pull_request INT NULL;
ALTER TABLE builds ADD pull_request_source NVARCHAR(400) NULL;

-- Every webhook delivery received, with what came of it (for the project page and for troubleshooting).
CREATE TABLE webhook_deliveries (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    project_id BIGINT NULL REFERENCES projects(id),
    delivery_id NVARCHAR(100) NULL,
    event NVARCHAR(50) NOT NULL,
    action NVARCHAR(50) NULL,
    received_at BIGINT NOT NULL,
    status_code INT NOT NULL,
    outcome NVARCHAR(2000) NOT NULL
);
CREATE INDEX ix_webhook_deliveries_project ON webhook_deliveries(project_id, id);

ALTER TABLE api_tokens ADD last_used_at BIGINT NULL;
