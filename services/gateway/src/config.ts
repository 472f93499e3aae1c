// The gateway's environment: where the upstreams are, how tokens are verified, the rate-limit
// policies and the resilience knobs.
import { baseConfig, identityConfig, portConfig, redisConfig } from '@shortfeed/common'
import { Type, type Static } from 'typebox'

const upstreamList = (description: string) => Type.String({ pattern: '^(https?://[^\\s,]+)(,https?://[^\\s,]+)*$', description })
/** "<requests>/<seconds>", e.g. 300/60. */
const policy = (fallback: string) => Type.String({ pattern: '^[1-9]\\d*/[1-9]\\d*$', default: fallback })

export const GatewayConfig = Type.Object({
  ...baseConfig,
  ...portConfig(8080),
  ...redisConfig,
  ...identityConfig,
  UPSTREAM_SHORTENER: upstreamList('shortener instances, comma-separated base URLs'),
  UPSTREAM_TIMELINE: upstreamList('timeline API instances'),
  UPSTREAM_NOTIFIER: Type.Optional(upstreamList('notifier instances (its routes answer 404 until set)')),
  /** Where the token signing keys are published; defaults to the first timeline instance's. */
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Proxies in front of the gateway whose X-Forwarded-For is believed: false, or addresses/CIDRs. */
  TRUST_PROXY: Type.String({ default: 'false' }),
  RATE_LIMIT_REDIRECT: policy('1200/60'),
  RATE_LIMIT_READ: policy('600/60'),
  RATE_LIMIT_WRITE: policy('120/60'),
  RATE_LIMIT_LOGIN: policy('10/60'),
  RATE_LIMIT_ENABLED: Type.Boolean({ default: true }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 120_000, default: 5_000 }),
  /** Retries of idempotent requests after a connection error, timeout or 502/503/504. */
  UPSTREAM_RETRIES: Type.Integer({ minimum: 0, maximum: 5, default: 2 }),
  UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1_000, default: 64 }),
  /** Re-resolve upstream names to all their addresses this often (0: connect by name, one address). */
  UPSTREAM_RESOLVE_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 5_000 }),
  BREAKER_ERROR_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  BREAKER_VOLUME_THRESHOLD: Type.Integer({ minimum: 1, default: 10 }),
  BREAKER_RESET_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Event-loop delay beyond which new requests are shed with 503; 0 turns shedding off. */
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 500 }),
  /** The web UI's build (packages/web/dist); by default found next to the gateway. */
  WEB_ROOT: Type.Optional(Type.String({ minLength: 1 })),
  /** Jaeger's UI as the browser reaches it, for the web UI's trace links (unset: ids only). */
  TRACE_UI_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1_024, maximum: 10 * 1024 * 1024, default: 64 * 1024 })
})
export type GatewayConfig = Static<typeof GatewayConfig>
