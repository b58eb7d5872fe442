-- The report files a job declares: a JSON list of { kind: "junit" | "coverage", pattern } (NULL: none).
ALTER TABLE jobs ADD reports NVARCHAR(MAX) NULL;

-- One uploaded report file of a job: parsed, or why it could not be (malformed, too large).
CREATE TABLE test_reports (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds(id),
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    kind NVARCHAR(20) NOT NULL,
    path NVARCHAR(1000) NOT NULL,
    problem NVARCHAR(MAX) NULL,
    summary NVARCHAR(1000) NOT NULL,
    lines_covered BIGINT NULL,
    lines_valid BIGINT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_test_reports_build ON test_reports(build_id);

CREATE TABLE test_cases (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds(id),
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    suite NVARCHAR(400) NOT NULL,
    name NVARCHAR(400) NOT NULL,
    status NVARCHAR(20) NOT NULL,
    duration_ms BIGINT NOT NULL,
    message NVARCHAR(MAX) NULL,
    output NVARCHAR(MAX) NULL
);
CREATE INDEX ix_test_cases_build ON test_cases(build_id);
CREATE INDEX ix_test_cases_name ON test_cases(suite, name);

CREATE TABLE coverage_files (
    id BIGINT IDENTITY(1,1) PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds(id),
    job_id BIGINT NOT NULL REFERENCES jobs(id),
    filename NVARCHAR(1000) NOT NULL,
    lines_covered BIGINT NOT NULL,
    lines_valid BIGINT NOT NULL
);
CREATE INDEX ix_coverage_files_build ON coverage_files(build_id);
