-- 0002: attempts carry the provenance their source stated: the copy's version
-- (submittedVersion, acceptedVersion, publishedVersion) and its licence.
-- Additive: a worker of the previous version writes attempts without them.
ALTER TABLE attempts ADD COLUMN version text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN license text NOT NULL DEFAULT '';
