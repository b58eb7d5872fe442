-- Blocks, dependencies, conditions and limits. A job's block (NULL: the one block of flat settings), the blocks it
-- needs to have passed before it may start (needs: a JSON list of names; such a job waits with status 'waiting'),
-- its own variables (env: a JSON object, from the settings, its block, itself and its matrix), its time limit, and
-- why the portal stopped it (cancel_reason: fail fast, a newer push, the build's time limit; set before the runner
-- is told). A build's fail-fast choice, time limit and why it was canceled are kept from its settings snapshot.
ALTER TABLE jobs ADD block NVARCHAR(200) NULL;
ALTER TABLE jobs ADD needs NVARCHAR(MAX) NULL;
ALTER TABLE jobs ADD env NVARCHAR(MAX) NULL;
ALTER TABLE jobs ADD time_limit_seconds INT NULL;
ALTER TABLE jobs ADD cancel_reason NVARCHAR(400) NULL;
ALTER TABLE builds ADD fail_fast BIT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD time_limit_seconds INT NULL;
ALTER TABLE builds ADD cancel_reason NVARCHAR(400) NULL;
