-- Commands a team hid from its insights (a row it does not care about, such as a deliberate wait): keyed by job, phase
-- and the command's text, whose SHA-256 (hex) keeps the key short whatever the text's length.
CREATE TABLE insights_hidden (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    job TEXT NOT NULL,
    phase TEXT NOT NULL,
    command_hash TEXT NOT NULL,
    command TEXT NOT NULL,
    hidden_by TEXT NOT NULL,
    hidden_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, job, phase, command_hash)
);
