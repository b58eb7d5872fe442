-- Jobs that run in a container: the image (the job's own or the project's; NULL runs on the shell executor) and its
-- service containers as JSON ([{ "image", "alias", "env", "ready" }]). A runner only claims a job with an image when it
-- offers the docker executor.
ALTER TABLE jobs ADD image NVARCHAR(400) NULL, services NVARCHAR(MAX) NULL;
