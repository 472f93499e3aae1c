-- Up Migration

-- Each process takes nextval() % 1024 as its snowflake worker id (src/ids/snowflake.ts).
CREATE SEQUENCE worker_ids;

CREATE TABLE users (
  id bigint PRIMARY KEY,
  handle text NOT NULL,
  display_name text,
  password_hash text NOT NULL,
  -- Kept by the follow transactions so that profiles and the celebrity check never count rows.
  follower_count int NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
  following_count int NOT NULL DEFAULT 0 CHECK (following_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Fan-out may skip followers inactive for longer than FANOUT_INACTIVE_DAYS; their
  -- timeline is rebuilt when they come back.
  last_active_at timestamptz NOT NULL DEFAULT now()
);
-- Handles are unique whatever their case.
CREATE UNIQUE INDEX users_handle_ci ON users (lower(handle));

CREATE TABLE follows (
  follower_id bigint NOT NULL REFERENCES users (id),
  followee_id bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_id, followee_id),
  CHECK (follower_id <> followee_id)
);
-- Fan-out walks an author's followers in id order.
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);

CREATE TABLE posts (
  id bigint PRIMARY KEY,
  author_id bigint NOT NULL REFERENCES users (id),
  author_handle text NOT NULL,
  text text NOT NULL,
  created_at timestamptz NOT NULL,
  -- Set once the fan-out consumer pushed the post to its author's followers. Until then (and
  -- for ever for celebrities' posts) readers pull it at read time.
  pushed boolean NOT NULL DEFAULT false
);
CREATE INDEX posts_by_author ON posts (author_id, id DESC);
CREATE INDEX posts_to_pull ON posts (author_id, id DESC) WHERE NOT pushed;

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
DROP TABLE posts;
DROP TABLE follows;
DROP TABLE users;
DROP SEQUENCE worker_ids;
