-- Commands a team hid from its insights (a row it does not care about, such as a deliberate wait): keyed by job, phase
-- and the command's text, whose SHA-256 (hex) keeps the key short whatever the text's length.
CREATE TABLE insights_hidden (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    job NVARCHAR(200) NOT NULL,
    phase NVARCHAR(20) NOT NULL,
    command_hash CHAR(64) NOT NULL,
    command NVARCHAR(MAX) NOT NULL,
    hidden_by NVARCHAR(200) NOT NULL,
    hidden_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, job, phase, command_hash)
);
