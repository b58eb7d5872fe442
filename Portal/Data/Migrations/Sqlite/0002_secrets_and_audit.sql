-- Variables and secrets of every scope in one table. scope_kind is org, project or server; scope_id is 0 for the
-- organization, else the project's or server's id. A name is either a variable or a secret within a scope.
-- Names compare without case, as in SQL Server's default collation, so both databases accept the same names.
-- value holds a plain variable's text, or a secret's Data Protection ciphertext: never a secret in clear.
-- file_path is NULL for an environment variable, else where the runner writes the value (relative to the workspace).
CREATE TABLE variables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_kind TEXT NOT NULL,
    scope_id INTEGER NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    is_secret INTEGER NOT NULL,
    value TEXT NOT NULL,
    file_path TEXT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (scope_kind, scope_id, name)
);

-- Who did what to which target, and when. details never hold a secret or variable value.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NULL
);
