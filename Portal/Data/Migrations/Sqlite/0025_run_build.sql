-- Run build… and reruns. ref_kind: what a person asked to build ('branch', the default; 'tag'; 'commit'), and tag: the
-- tag a build of a tag was started from. variables: the extra plain variables given for that one build (a JSON object),
-- laid over the project's variables in each of its jobs. rerun_of: the build a rerun repeats; rerun_failed: whether it
-- reran only the jobs that failed. canceled_by / canceled_at: who canceled the build and when (unix ms).
ALTER TABLE builds ADD COLUMN ref_kind TEXT NOT NULL DEFAULT 'branch';
ALTER TABLE builds ADD COLUMN tag TEXT NULL;
ALTER TABLE builds ADD COLUMN variables TEXT NULL;
ALTER TABLE builds ADD COLUMN rerun_of INTEGER NULL;
ALTER TABLE builds ADD COLUMN rerun_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN canceled_by TEXT NULL;
ALTER TABLE builds ADD COLUMN canceled_at INTEGER NULL;
