-- Up Migration

-- Every change to a notification (created, or grown by grouping) takes the next value: it is
-- the SSE event id, so a client resuming with Last-Event-ID gets exactly what it missed.
CREATE SEQUENCE notification_changes;

CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  recipient_id text NOT NULL,
  type text NOT NULL,
  -- Newest first; a grouped notification lists who is folded into it.
  actor_ids text[] NOT NULL DEFAULT '{}',
  actor_count int NOT NULL DEFAULT 1,
  text text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  change_seq bigint NOT NULL DEFAULT nextval('notification_changes'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, id DESC);
CREATE INDEX notifications_changes ON notifications (recipient_id, change_seq);
CREATE INDEX notifications_unread ON notifications (recipient_id) WHERE read_at IS NULL;

-- The idempotent consumer's memory: an event is handled once per recipient, in the same
-- transaction as the notification it produced.
CREATE TABLE processed_events (
  event_id uuid NOT NULL,
  recipient_id text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, recipient_id)
);

CREATE TABLE preferences (
  user_id text PRIMARY KEY,
  muted text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE preferences;
DROP TABLE processed_events;
DROP TABLE notifications;
DROP SEQUENCE notification_changes;
