-- Run build… and reruns. ref_kind: what a person asked to build ('branch', the default; 'tag'; 'commit'), and tag: the
-- tag a build of a tag was started from. variables: the extra plain variables given for that one build (a JSON object),
-- laid over the project's variables in each of its jobs. rerun_of: the build a rerun repeats; rerun_failed: whether it
-- reran only the jobs that failed. canceled_by / canceled_at: who canceled the build and when (unix ms).
ALTER TABLE builds ADD ref_kind NVARCHAR(10) NOT NULL DEFAULT 'branch';
ALTER TABLE builds ADD tag NVARCHAR(255) NULL;
ALTER TABLE builds ADD variables NVARCHAR(MAX) NULL;
ALTER TABLE builds ADD rerun_of BIGINT NULL;
ALTER TABLE builds ADD rerun_failed BIT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD canceled_by NVARCHAR(200) NULL;
ALTER TABLE builds ADD canceled_at BIGINT NULL;
