-- The organization's shared script library. A script's versions are immutable; numbers are never reused, not even
-- after a delete (deleted_at) and a new save under the same name, so name@N always means one text. Builds refer to
-- versions (commands.script_name + script_version), so a deleted script's versions stay for the builds that ran them.
CREATE TABLE scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at INTEGER NULL,
    deleted_by TEXT NULL
);

-- commit_sha: in a git-backed library, the commit that made this version of the file.
CREATE TABLE script_versions (
    script_id INTEGER NOT NULL REFERENCES scripts(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    description TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    commit_sha TEXT NULL,
    PRIMARY KEY (script_id, version)
);

-- One row (id = 1) when the library is git-backed: the repository, its folder of *.sh files, the credential and the
-- webhook secret (both encrypted with Data Protection), and how the last sync went.
CREATE TABLE script_library (
    id INTEGER PRIMARY KEY,
    git_url TEXT NOT NULL,
    git_branch TEXT NULL,
    git_folder TEXT NOT NULL,
    git_username TEXT NULL,
    git_credential TEXT NULL,
    webhook_secret TEXT NOT NULL,
    synced_at INTEGER NULL,
    synced_commit TEXT NULL,
    sync_error TEXT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- A run-script command is a section (script_name, script_version: what it resolved to when the build was created)
-- followed by one row per top-level command of the script, pointing at the section with parent_idx.
ALTER TABLE commands ADD COLUMN parent_idx INTEGER NULL;
ALTER TABLE commands ADD COLUMN script_name TEXT NULL;
ALTER TABLE commands ADD COLUMN script_version INTEGER NULL;
CREATE INDEX ix_commands_script ON commands(script_name);
