-- Pages are no longer kept between views (issue #26): every view of /profile renders from data read in
-- that request, so nothing needs to know whether a user changed.
ALTER TABLE users DROP COLUMN revision;
