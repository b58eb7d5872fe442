-- fork_approval: which builds of pull requests from forks wait for a member's approval before anything runs:
-- 'always' (the default: every one), 'first-time' (only authors with no approved or run fork build here yet), 'never'.
ALTER TABLE projects ADD fork_approval NVARCHAR(20) NOT NULL DEFAULT 'always';

-- pull_request_author: the GitHub login of who opened the pull request (what 'first-time' asks about).
-- approved_by / approved_at: who let a held fork build run, and when (Unix ms); NULL for builds never held.
ALTER TABLE builds ADD pull_request_author NVARCHAR(200) NULL, approved_by NVARCHAR(200) NULL, approved_at BIGINT NULL;
GO
-- Pull request builds made before this kept the author's login as their commit author. (A batch of its own: SQL
-- Server compiles a batch before running it, and the columns above do not exist yet when this one compiles.)
UPDATE builds SET pull_request_author = commit_author WHERE pull_request IS NOT NULL;
CREATE INDEX ix_builds_pull_request_author ON builds(project_id, pull_request_author);
