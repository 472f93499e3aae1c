// The gateway as a Fastify app: buildApp(config) registers, in order, its instruments, load
// shedding, security headers, Redis, one upstream client per service, the rate limiter, the
// token verifier, the merged OpenAPI document with its UI, the web UI, and the proxy route that
// ties them together (routing.ts is its table).
import helmet from '@fastify/helmet'
import underPressure from '@fastify/under-pressure'
import { createServer, redisPlugin, secretNames, sendProblem } from '@shortfeed/common'
import { GatewayConfig } from './config.ts'
import { metricsPlugin } from './metrics.ts'
import apiDocs from './plugins/api-docs.ts'
import rateLimiter from './plugins/rate-limiter.ts'
import tokenVerifier from './plugins/token-verifier.ts'
import upstreams from './plugins/upstreams.ts'
import webUi, { defaultWebRoot } from './plugins/web-ui.ts'
import { parsePolicy } from './rate-limit/rate-limiter.ts'
import proxy from './routes/proxy.ts'
import type { Upstream as UpstreamName } from './routing.ts'

function trustProxySetting (value: string): boolean | string[] {
  if (value === 'false' || value === '') return false
  if (value === 'true') return true
  return value.split(',').map((s) => s.trim())
}

export async function buildApp (config: GatewayConfig) {
  const app = await createServer({
    service: 'gateway',
    config,
    bodyLimit: config.BODY_LIMIT_BYTES,
    redact: [...secretNames(GatewayConfig), 'req.headers["x-shortfeed-identity"]'],
    trustProxy: trustProxySetting(config.TRUST_PROXY),
    // One public document, the merged one at /docs/json: the edge's own routes are not the API.
    openApiRoute: false,
    // gateway_request_duration names the public route; the catch-all proxy's pattern would not.
    requestMetrics: false
  })
  await app.register(metricsPlugin)

  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    retryAfter: 5,
    pressureHandler: (request, reply, type, value) => {
      void reply.header('retry-after', '5')
      void sendProblem(reply, {
        type: 'urn:shortfeed:problem:gateway-overloaded',
        title: 'Service Unavailable',
        status: 503,
        detail: `The gateway is shedding load (${type} ${String(value)}); retry shortly.`,
        instance: request.url.split('?')[0]!,
        code: 'GATEWAY_OVERLOADED'
      })
    }
  })
  // Security headers on every response; no CSP here: the API serves JSON and redirects, and the
  // docs UI needs inline scripts. The web UI's page sets its own strict one (plugins/web-ui.ts).
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } })
  await app.register(redisPlugin, { config, connectionName: 'gateway' })

  const instances: Record<UpstreamName, string | undefined> = {
    shortener: config.UPSTREAM_SHORTENER,
    timeline: config.UPSTREAM_TIMELINE,
    notifier: config.UPSTREAM_NOTIFIER
  }
  await app.register(upstreams, {
    instances,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    retries: config.UPSTREAM_RETRIES,
    connections: config.UPSTREAM_CONNECTIONS,
    breaker: {
      errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      resetTimeout: config.BREAKER_RESET_MS
    },
    resolveIntervalMs: config.UPSTREAM_RESOLVE_INTERVAL_MS
  })
  await app.register(rateLimiter, { enabled: config.RATE_LIMIT_ENABLED })
  await app.register(tokenVerifier, { jwksUrl: config.JWKS_URL ?? `${config.UPSTREAM_TIMELINE.split(',')[0]!}/.well-known/jwks.json` })
  const firstInstances = Object.values(instances).filter((l): l is string => l !== undefined).map((l) => l.split(',')[0]!)
  await app.register(apiDocs, { sources: firstInstances })
  await app.register(webUi, { root: config.WEB_ROOT ?? defaultWebRoot(), traceUiUrl: config.TRACE_UI_URL?.replace(/\/$/, '') ?? null })

  await app.register(proxy, {
    policies: {
      redirect: parsePolicy('redirect', config.RATE_LIMIT_REDIRECT),
      read: parsePolicy('read', config.RATE_LIMIT_READ),
      write: parsePolicy('write', config.RATE_LIMIT_WRITE),
      login: parsePolicy('login', config.RATE_LIMIT_LOGIN)
    },
    identitySecret: config.INTERNAL_AUTH_SECRET,
    breakerResetSeconds: Math.ceil(config.BREAKER_RESET_MS / 1000),
    bodyLimit: config.BODY_LIMIT_BYTES
  })
  return app
}
