-- Up Migration

-- Clicks per link per hour, in total and by country, referrer host and device class: written by
-- the click aggregator in the transaction that stores its Kafka offsets, so a redelivered batch
-- changes nothing. The hour is UTC; days are sums of hours.
CREATE TABLE click_stats (
  code text NOT NULL,
  hour timestamptz NOT NULL,
  dimension text NOT NULL CHECK (dimension IN ('total', 'country', 'referrer', 'device')),
  value text NOT NULL,
  clicks bigint NOT NULL CHECK (clicks > 0),
  PRIMARY KEY (code, hour, dimension, value)
);

-- The referrer hosts a link counts by name: the first CLICK_TOP_REFERRERS to send it clicks.
-- Later ones are counted as "other", so one link cannot grow click_stats without bound.
CREATE TABLE click_referrers (
  code text NOT NULL,
  referrer text NOT NULL,
  PRIMARY KEY (code, referrer)
);

-- Down Migration

DROP TABLE click_referrers;
DROP TABLE click_stats;
