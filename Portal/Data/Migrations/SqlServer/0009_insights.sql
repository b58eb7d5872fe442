-- Timing insights read a project's builds by when they were requested (the last N days), and every project's builds
-- for the cross-project view; both are ranges on queued_at.
CREATE INDEX ix_builds_project_queued ON builds(project_id, queued_at);
