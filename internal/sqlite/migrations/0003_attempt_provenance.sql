-- 0003: attempts carry the provenance their source stated: the copy's version
-- (submittedVersion, acceptedVersion, publishedVersion) and its licence.
ALTER TABLE attempts ADD COLUMN version TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN license TEXT NOT NULL DEFAULT '';
