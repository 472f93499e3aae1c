// The shortener's environment: shared parts plus its own knobs (documented in README.md).
import { baseConfig, identityConfig, kafkaConfig, portConfig, postgresConfig, redisConfig, secret } from '@shortfeed/common'
import { Type, type Static } from 'typebox'

/** What the click aggregator needs, in the API process or in its own (shortener-clicks). */
const aggregatorParts = {
  CLICK_AGGREGATOR_GROUP: Type.String({ minLength: 1, default: 'shortener-click-aggregator' }),
  MILESTONES: Type.String({ pattern: '^\\d+(,\\d+)*$', default: '100,1000,10000' }),
  /** Referrer hosts counted by name per link; later ones are counted as "other". */
  CLICK_TOP_REFERRERS: Type.Integer({ minimum: 1, maximum: 1_000, default: 20 })
}

export const ShortenerConfig = Type.Object({
  ...baseConfig,
  ...portConfig(8081),
  ...postgresConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...identityConfig,
  ...aggregatorParts,
  /** Where short links are served (the gateway); shortUrl = PUBLIC_BASE_URL/code. */
  PUBLIC_BASE_URL: Type.String({ pattern: '^https?://[^/?#]+$', default: 'http://127.0.0.1:8080' }),
  /** More hostnames that reach us, comma-separated: links to them are refused (loops). */
  SELF_HOSTS: Type.String({ default: 'localhost,127.0.0.1,[::1]' }),
  /** Keys the id → code permutation. Changing it changes future codes, never existing ones. */
  CODE_PERMUTATION_KEY: secret('development-code-permutation-key'),
  REDIRECT_STATUS: Type.Union([Type.Literal(302), Type.Literal(301)], { default: 302 }),
  CACHE_ENABLED: Type.Boolean({ default: true }),
  CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 3600 }),
  /** ± fraction of the TTL, so entries filled together do not expire together. */
  CACHE_TTL_JITTER: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1 }),
  NEGATIVE_CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  COALESCING_ENABLED: Type.Boolean({ default: true }),
  CLICK_FLUSH_INTERVAL_MS: Type.Integer({ minimum: 5, maximum: 10_000, default: 100 }),
  CLICK_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  /** Clicks waiting for Kafka beyond this are dropped (and counted) rather than piling up. */
  CLICK_BUFFER_MAX: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  /** A batch Kafka has not acknowledged by then is counted as dropped; the next one goes. */
  CLICK_SEND_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** Add country, referrer host and device class to each click (off the redirect's path). */
  CLICK_ENRICHMENT_ENABLED: Type.Boolean({ default: true }),
  /** An IP-to-country .mmdb with a country_code field; the one @ip-location-db ships by default. */
  CLICK_GEO_DATABASE: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Count clicks in this process. One shortener alone does; the stack and compose run the
   * aggregator as shortener-clicks and turn this off, so redirects do not share its CPU.
   */
  CLICK_AGGREGATOR_ENABLED: Type.Boolean({ default: true })
})

export type ShortenerConfig = Static<typeof ShortenerConfig>

/** The click aggregator on its own (port 8085: health and metrics only). */
export const ClicksConfig = Type.Object({
  ...baseConfig,
  ...portConfig(8085),
  ...postgresConfig,
  ...kafkaConfig,
  ...aggregatorParts
})

export type ClicksConfig = Static<typeof ClicksConfig>
