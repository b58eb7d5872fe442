-- GitHub accounts used to be linked to the Kaizen user whose name equalled their login, at their first GitHub sign-in:
-- anyone who registered that login on GitHub could have taken the account. A link is now made only from the user's own
-- signed-in session (or by an admin), so every link made the old way is dropped; people link again from their
-- GitHub account page, or an admin sets the id.
UPDATE users SET github_id = NULL WHERE github_id IS NOT NULL;
