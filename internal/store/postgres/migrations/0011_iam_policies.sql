-- Customer-managed policies through the IAM API (store.CustomerPolicy):
-- the policy's unique ID (ANPA…), description, tags and its versions. The
-- document column stays the default version's document, the one
-- permission sets and automation users evaluate. Rows written before this
-- migration (world files) have no ID or versions yet; package automation
-- gives them a stable ID and a version v1 holding their document.

ALTER TABLE customer_policies ADD COLUMN policy_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customer_policies ADD COLUMN description TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customer_policies ADD COLUMN default_version TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customer_policies ADD COLUMN versions TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE customer_policies ADD COLUMN next_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_policies ADD COLUMN tags TEXT COLLATE "C" NOT NULL DEFAULT '[]';
