-- The GitHub account (its numeric id, which survives a rename) a user first signed in with. A later sign-in with
-- another account of the same login is refused, so a released and re-registered login cannot take the user over.
ALTER TABLE users ADD COLUMN github_id INTEGER NULL;
