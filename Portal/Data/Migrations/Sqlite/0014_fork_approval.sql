-- fork_approval: which builds of pull requests from forks wait for a member's approval before anything runs:
-- 'always' (the default: every one), 'first-time' (only authors with no approved or run fork build here yet), 'never'.
ALTER TABLE projects ADD COLUMN fork_approval TEXT NOT NULL DEFAULT 'always';

-- pull_request_author: the GitHub login of who opened the pull request (what 'first-time' asks about).
-- approved_by / approved_at: who let a held fork build run, and when (Unix ms); NULL for builds never held.
ALTER TABLE builds ADD COLUMN pull_request_author TEXT NULL COLLATE NOCASE;
ALTER TABLE builds ADD COLUMN approved_by TEXT NULL;
ALTER TABLE builds ADD COLUMN approved_at INTEGER NULL;

-- Pull request builds made before this kept the author's login as their commit author.
UPDATE builds SET pull_request_author = commit_author WHERE pull_request IS NOT NULL;
CREATE INDEX ix_builds_pull_request_author ON builds(project_id, pull_request_author);
