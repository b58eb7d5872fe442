-- The report files a job declares: a JSON list of { kind: "junit" | "coverage", pattern } (NULL: none).
ALTER TABLE jobs ADD COLUMN reports TEXT NULL;

-- One uploaded report file of a job: parsed, or why it could not be (malformed, too large).
CREATE TABLE test_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    problem TEXT NULL,
    summary TEXT NOT NULL,
    lines_covered INTEGER NULL,
    lines_valid INTEGER NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_test_reports_build ON test_reports(build_id);

CREATE TABLE test_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    suite TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    message TEXT NULL,
    output TEXT NULL
);
CREATE INDEX ix_test_cases_build ON test_cases(build_id);
CREATE INDEX ix_test_cases_name ON test_cases(suite, name);

CREATE TABLE coverage_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    filename TEXT NOT NULL,
    lines_covered INTEGER NOT NULL,
    lines_valid INTEGER NOT NULL
);
CREATE INDEX ix_coverage_files_build ON coverage_files(build_id);
