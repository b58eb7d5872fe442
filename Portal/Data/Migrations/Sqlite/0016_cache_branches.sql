-- branch: the branch of the build that stored a cache entry. A build restores its own branch's entries, then the
-- project's default branch's, never another branch's, and stores only its own branch's: so a push to any branch cannot
-- put content into what the default branch's builds and deploys restore (cache poisoning). The same key may therefore
-- be stored once per branch. Entries stored before this count as the default branch's, which they were shared with.
ALTER TABLE cache_entries ADD COLUMN branch TEXT NOT NULL DEFAULT '';
UPDATE cache_entries SET branch = (SELECT p.default_branch FROM projects p WHERE p.id = cache_entries.project_id);
DROP INDEX ux_cache_entries_key;
CREATE UNIQUE INDEX ux_cache_entries_key ON cache_entries(project_id, branch, cache_key);
