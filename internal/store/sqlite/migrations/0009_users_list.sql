-- ListUsers reads users in ID order, a page at a time. The users table is
-- a rowid table whose rows lie in insertion order, so a page of 100 users
-- by ID touched up to 100 scattered table pages, each fetched and parsed
-- again after every write (WAL readers drop their page cache when the
-- database changes, and every admin call writes its audit event). This
-- index holds every column ListUsers returns in ID order, so a page is read
-- from a few adjacent index pages.
CREATE INDEX users_list ON users (id, user_name, display_name, name, emails, profile, disabled,
	password_hash, created_at, updated_at, created_by, updated_by);
