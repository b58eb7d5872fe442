-- Variables and secrets of every scope in one table. scope_kind is org, project or server; scope_id is 0 for the
-- organization, else the project's or server's id. A name is either a variable or a secret within a scope.
-- Names compare without case (the default collation), as SQLite's column does (COLLATE NOCASE).
-- value holds a plain variable's text, or a secret's Data Protection ciphertext: never a secret in clear.
-- file_path is NULL for an environment variable, else where the runner writes the value (relative to the workspace).
CREATE TABLE variables (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    scope_kind NVARCHAR(20) NOT NULL,
    scope_id BIGINT NOT NULL,
    name NVARCHAR(200) NOT NULL,
    is_secret BIT NOT NULL,
    value NVARCHAR(MAX) NOT NULL,
    file_path NVARCHAR(500) NULL,
    created_at BIGINT NOT NULL,
    created_by NVARCHAR(200) NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by NVARCHAR(200) NOT NULL,
    CONSTRAINT uq_variables_scope_name UNIQUE (scope_kind, scope_id, name)
);

-- Who did what to which target, and when. details never hold a secret or variable value.
CREATE TABLE audit_log (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    at BIGINT NOT NULL,
    actor NVARCHAR(200) NOT NULL,
    action NVARCHAR(100) NOT NULL,
    target NVARCHAR(1000) NOT NULL,
    details NVARCHAR(2000) NULL
);
