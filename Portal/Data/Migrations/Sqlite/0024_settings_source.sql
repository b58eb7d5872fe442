-- Where a project's build settings live: 'portal' (stored here, the default) or 'repository' (each build reads
-- .kaizen.yml at its commit). settings_yaml: the YAML text last saved through the YAML API, kept with its comments
-- and given back by the export while it still says the same as the stored settings.
ALTER TABLE projects ADD COLUMN settings_source TEXT NOT NULL DEFAULT 'portal';
ALTER TABLE projects ADD COLUMN settings_yaml TEXT NULL;
