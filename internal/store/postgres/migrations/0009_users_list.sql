-- SQLite adds a covering index for ListUsers here (its WAL readers drop
-- their page cache on every write, so scattered table pages are fetched and
-- parsed again on each call). PostgreSQL keeps pages in shared buffers
-- across writes and reads a page of users through the primary key's index;
-- it needs nothing, and the migration only keeps the two schemas' versions
-- in step.
SELECT 1;
