// The timeline service's environment, shared by its two entry points (API and fan-out worker).
import { baseConfig, identityConfig, kafkaConfig, portConfig, postgresConfig, redisConfig, secret } from '@shortfeed/common'
import { Type, type Static } from 'typebox'

/** Development signing key (refused in production): generate yours with `openssl genpkey -algorithm ed25519`. */
const DEV_JWT_KEY = '-----BEGIN PRIVATE KEY-----\\n' +
  'MC4CAQAwBQYDK2VwBCIEIDGTq7DVv9DDH/dGhMTAs95nmib7b7by4kAopi5WiJKC\\n' +
  '-----END PRIVATE KEY-----'

const timelineParts = {
  ...baseConfig,
  ...postgresConfig,
  ...redisConfig,
  ...kafkaConfig,
  /** Authors with at least this many followers are not pushed; readers pull their posts. */
  CELEBRITY_FOLLOWER_THRESHOLD: Type.Integer({ minimum: 1, default: 10_000 }),
  /** Entries kept per home timeline in Redis. */
  TIMELINE_MAX_ENTRIES: Type.Integer({ minimum: 10, maximum: 10_000, default: 800 }),
  /** Followers not seen for this long are skipped by fan-out and rebuilt when they return. */
  FANOUT_INACTIVE_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 7 }),
  POST_CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, default: 86_400 })
}

export const TimelineConfig = Type.Object({
  ...timelineParts,
  ...portConfig(8082),
  ...identityConfig,
  /** PKCS#8 PEM of the Ed25519 key that signs access tokens (`\n` escapes allowed). */
  JWT_PRIVATE_KEY: secret(DEV_JWT_KEY, { minLength: 64 }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
  /** Password hashes computed at once (scrypt, 32 MiB and one libuv thread each). */
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  /** A sign-in whose hash cannot start within this is refused with 503 (keep it under the gateway's UPSTREAM_TIMEOUT_MS). */
  PASSWORD_HASH_MAX_WAIT_MS: Type.Integer({ minimum: 1, maximum: 60_000, default: 3_000 })
})
export type TimelineConfig = Static<typeof TimelineConfig>

export const FanoutConfig = Type.Object({
  ...timelineParts,
  ...portConfig(8084),
  FANOUT_GROUP: Type.String({ minLength: 1, default: 'timeline-fanout' }),
  /** Followers per Postgres page and per Redis pipeline: one round trip each. */
  FANOUT_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 100_000, default: 5_000 }),
  /** Posts copied into a new follower's timeline (Mastodon copies 200 too). */
  FOLLOW_BACKFILL_POSTS: Type.Integer({ minimum: 0, maximum: 800, default: 200 })
})
export type FanoutConfig = Static<typeof FanoutConfig>
