-- What a build ran with, recorded when it is created: its build settings (settings_json, as the project had them) and
-- the version of every shared script its settings and its project's deploy commands named (scripts_json: a list of
-- { name, version, pinned }). Its deploys run this setup and these versions, never what the project or the library
-- has since. A build from before this table has no row: its deploys run the current setup and scripts, as before.
CREATE TABLE build_snapshots (
    build_id BIGINT NOT NULL PRIMARY KEY REFERENCES builds(id),
    settings_json NVARCHAR(MAX) NOT NULL,
    scripts_json NVARCHAR(MAX) NOT NULL,
    taken_at BIGINT NOT NULL
);
