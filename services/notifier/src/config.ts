// The notifier's environment.
import { baseConfig, identityConfig, kafkaConfig, portConfig, postgresConfig, redisConfig } from '@shortfeed/common'
import { Type, type Static } from 'typebox'

export const NotifierConfig = Type.Object({
  ...baseConfig,
  ...portConfig(8083),
  ...postgresConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...identityConfig,
  /** Where user profiles are read (handles for texts, @mentions): the gateway, or the timeline service inside the cluster. */
  USERS_API_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8080' }),
  USERS_API_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 2_000 }),
  NOTIFIER_GROUP: Type.String({ minLength: 1, default: 'notifier' }),
  /** A recipient's notifications of one type beyond this many within the window fold into one ("X and 12 others"). */
  GROUP_AFTER: Type.Integer({ minimum: 1, default: 3 }),
  GROUP_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 600 }),
  SSE_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 15_000 })
})
export type NotifierConfig = Static<typeof NotifierConfig>
