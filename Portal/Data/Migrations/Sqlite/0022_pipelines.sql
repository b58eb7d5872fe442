-- Blocks, dependencies, conditions and limits. A job's block (NULL: the one block of flat settings), the blocks it
-- needs to have passed before it may start (needs: a JSON list of names; such a job waits with status 'waiting'),
-- its own variables (env: a JSON object, from the settings, its block, itself and its matrix), its time limit, and
-- why the portal stopped it (cancel_reason: fail fast, a newer push, the build's time limit; set before the runner
-- is told). A build's fail-fast choice, time limit and why it was canceled are kept from its settings snapshot.
ALTER TABLE jobs ADD COLUMN block TEXT NULL;
ALTER TABLE jobs ADD COLUMN needs TEXT NULL;
ALTER TABLE jobs ADD COLUMN env TEXT NULL;
ALTER TABLE jobs ADD COLUMN time_limit_seconds INTEGER NULL;
ALTER TABLE jobs ADD COLUMN cancel_reason TEXT NULL;
ALTER TABLE builds ADD COLUMN fail_fast INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN time_limit_seconds INTEGER NULL;
ALTER TABLE builds ADD COLUMN cancel_reason TEXT NULL;
