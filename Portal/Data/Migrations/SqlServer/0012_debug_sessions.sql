-- Debug sessions: a shell in a job's environment (kind 'debug': a finished job set up again on a runner; 'attach': next
-- to a running job). status goes queued -> starting -> open -> ended; expires_at (Unix ms) is when it ends by itself.
-- with_secrets records whether the session receives the job's secrets (decided when it starts, from who started it).
-- token_hash: the session's job token (KAIZEN_JOB_TOKEN), which reads the build's artifacts and caches but writes none.
CREATE TABLE debug_sessions (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    kind NVARCHAR(16) NOT NULL,
    status NVARCHAR(16) NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    user_name NVARCHAR(200) NOT NULL,
    runner_id BIGINT NULL REFERENCES runners(id),
    with_secrets BIT NOT NULL,
    run_setup BIT NOT NULL,
    minutes FLOAT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT NULL,
    ended_at BIGINT NULL,
    expires_at BIGINT NOT NULL,
    end_reason NVARCHAR(500) NULL,
    ssh_command NVARCHAR(1000) NULL,
    token_hash NVARCHAR(128) NULL
);
CREATE INDEX ix_debug_sessions_status ON debug_sessions(status, id);
CREATE INDEX ix_debug_sessions_job ON debug_sessions(job_id);

-- OpenSSH public keys (one per line) that let a user reach their debug sessions over SSH.
ALTER TABLE users ADD ssh_keys NVARCHAR(MAX) NULL;
