-- branch: the branch of the build that stored a cache entry. A build restores its own branch's entries, then the
-- project's default branch's, never another branch's, and stores only its own branch's: so a push to any branch cannot
-- put content into what the default branch's builds and deploys restore (cache poisoning). The same key may therefore
-- be stored once per branch. Branch names compare case-sensitively, as in git.
ALTER TABLE cache_entries ADD branch NVARCHAR(400) COLLATE Latin1_General_BIN2 NOT NULL DEFAULT '';
GO
-- Entries stored before this count as the default branch's, which they were shared with. (A batch of its own: SQL
-- Server compiles a batch before running it, and the column above does not exist yet when this one compiles.)
UPDATE e SET branch = p.default_branch FROM cache_entries e JOIN projects p ON p.id = e.project_id;
DROP INDEX ux_cache_entries_key ON cache_entries;
CREATE UNIQUE INDEX ux_cache_entries_key ON cache_entries(project_id, branch, cache_key);
