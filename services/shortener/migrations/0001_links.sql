-- Up Migration

-- Each nextval() reserves a block of 100 ids (see src/codes/id-allocator.ts). Only ever grow
-- the increment: shrinking it would hand out ids inside blocks already reserved.
CREATE SEQUENCE link_id_blocks START WITH 100 INCREMENT BY 100;

CREATE TABLE links (
  id bigint PRIMARY KEY,
  -- A generated 7-character code or a custom alias; case-sensitive like the codes.
  code text NOT NULL UNIQUE,
  is_alias boolean NOT NULL,
  url text NOT NULL,
  owner_id text,
  permanent boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  deleted_at timestamptz,
  clicks bigint NOT NULL DEFAULT 0
);

-- The owner's list, newest first.
CREATE INDEX links_owner_recent ON links (owner_id, id DESC) WHERE owner_id IS NOT NULL AND deleted_at IS NULL;

-- The click aggregator stores each partition's next offset with the counts it wrote, so a
-- redelivered batch is recognised and skipped (effectively once).
CREATE TABLE click_offsets (
  topic text NOT NULL,
  partition int NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (topic, partition)
);

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status int,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  event jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE outbox;
DROP TABLE idempotency_keys;
DROP TABLE click_offsets;
DROP TABLE links;
DROP SEQUENCE link_id_blocks;
