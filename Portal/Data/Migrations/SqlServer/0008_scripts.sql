-- The organization's shared script library. A script's versions are immutable; numbers are never reused, not even
-- after a delete (deleted_at) and a new save under the same name, so name@N always means one text. Builds refer to
-- versions (commands.script_name + script_version), so a deleted script's versions stay for the builds that ran them.
CREATE TABLE scripts (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    name NVARCHAR(64) NOT NULL,
    description NVARCHAR(2000) NOT NULL,
    latest_version INT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by NVARCHAR(200) NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by NVARCHAR(200) NOT NULL,
    deleted_at BIGINT NULL,
    deleted_by NVARCHAR(200) NULL,
    CONSTRAINT uq_scripts_name UNIQUE (name)
);

-- commit_sha: in a git-backed library, the commit that made this version of the file.
CREATE TABLE script_versions (
    script_id BIGINT NOT NULL REFERENCES scripts(id),
    version INT NOT NULL,
    body NVARCHAR(MAX) NOT NULL,
    description NVARCHAR(2000) NOT NULL,
    author NVARCHAR(200) NOT NULL,
    created_at BIGINT NOT NULL,
    commit_sha NVARCHAR(64) NULL,
    PRIMARY KEY (script_id, version)
);

-- One row (id = 1) when the library is git-backed: the repository, its folder of *.sh files, the credential and the
-- webhook secret (both encrypted with Data Protection), and how the last sync went.
CREATE TABLE script_library (
    id INT PRIMARY KEY,
    git_url NVARCHAR(2000) NOT NULL,
    git_branch NVARCHAR(400) NULL,
    git_folder NVARCHAR(400) NOT NULL,
    git_username NVARCHAR(200) NULL,
    git_credential NVARCHAR(MAX) NULL,
    webhook_secret NVARCHAR(MAX) NOT NULL,
    synced_at BIGINT NULL,
    synced_commit NVARCHAR(64) NULL,
    sync_error NVARCHAR(2000) NULL,
    updated_at BIGINT NOT NULL,
    updated_by NVARCHAR(200) NOT NULL
);

-- A run-script command is a section (script_name, script_version: what it resolved to when the build was created)
-- followed by one row per top-level command of the script, pointing at the section with parent_idx.
ALTER TABLE commands ADD parent_idx INT NULL, script_name NVARCHAR(64) NULL, script_version INT NULL;
GO
CREATE INDEX ix_commands_script ON commands(script_name);
