-- Debug sessions: a shell in a job's environment (kind 'debug': a finished job set up again on a runner; 'attach': next
-- to a running job). status goes queued -> starting -> open -> ended; expires_at (Unix ms) is when it ends by itself.
-- with_secrets records whether the session receives the job's secrets (decided when it starts, from who started it).
-- token_hash: the session's job token (KAIZEN_JOB_TOKEN), which reads the build's artifacts and caches but writes none.
CREATE TABLE debug_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    user_name TEXT NOT NULL,
    runner_id INTEGER NULL REFERENCES runners(id),
    with_secrets INTEGER NOT NULL,
    run_setup INTEGER NOT NULL,
    minutes REAL NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER NULL,
    ended_at INTEGER NULL,
    expires_at INTEGER NOT NULL,
    end_reason TEXT NULL,
    ssh_command TEXT NULL,
    token_hash TEXT NULL
);
CREATE INDEX ix_debug_sessions_status ON debug_sessions(status, id);
CREATE INDEX ix_debug_sessions_job ON debug_sessions(job_id);

-- OpenSSH public keys (one per line) that let a user reach their debug sessions over SSH.
ALTER TABLE users ADD COLUMN ssh_keys TEXT NULL;
