-- Up Migration

-- Click events already counted, by event id. The click producer may store one click twice (a
-- send retried after the broker took it but before it answered — a broker dying does that);
-- the offsets in click_offsets cannot tell such copies apart, the event id can. Copies land
-- within seconds of each other, so a day of ids is plenty; the aggregator prunes older ones.
CREATE TABLE counted_clicks (
  event_id uuid PRIMARY KEY,
  counted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX counted_clicks_age ON counted_clicks (counted_at);

-- Down Migration
DROP TABLE counted_clicks;
