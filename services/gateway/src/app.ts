// The gateway as a Fastify app: buildApp(config) wires load shedding, security headers, the
// rate limiter (Redis), the token verifier, one upstream client per service, the merged
// OpenAPI document with its UI, and the proxy that ties them together.
import helmet from '@fastify/helmet'
import swaggerUi from '@fastify/swagger-ui'
import underPressure from '@fastify/under-pressure'
import { createServer, redisPlugin, secretNames, sendProblem } from '@shortfeed/common'
import { createVerifier } from './auth/jwt-verifier.ts'
import { GatewayConfig } from './config.ts'
import { metricsPlugin } from './metrics.ts'
import { createOpenApiAggregator } from './openapi.ts'
import proxy from './routes/proxy.ts'
import { createRateLimiter, parsePolicy } from './rate-limit/rate-limiter.ts'
import type { Upstream as UpstreamName } from './routing.ts'
import { createUpstream, type Upstream } from './upstream/upstream-client.ts'
import webUi, { defaultWebRoot } from './plugins/web-ui.ts'

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
  const metrics = app.gatewayMetrics

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
  const upstreams: Partial<Record<UpstreamName, Upstream>> = {}
  for (const [name, list] of Object.entries(instances) as Array<[UpstreamName, string | undefined]>) {
    if (!list) continue
    upstreams[name] = createUpstream({
      name,
      instances: list.split(','),
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
      retries: config.UPSTREAM_RETRIES,
      connections: config.UPSTREAM_CONNECTIONS,
      breaker: {
        errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
        volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
        resetTimeout: config.BREAKER_RESET_MS
      },
      onRetry: () => { metrics.upstreamRetries.add(1) },
      resolveIntervalMs: config.UPSTREAM_RESOLVE_INTERVAL_MS,
      onInstances: (origins) => { app.log.info({ upstream: name, instances: origins }, 'upstream instances') },
      onResolveError: (err) => { app.log.warn({ err, upstream: name }, 'upstream names did not resolve; keeping the last instances') }
    })
  }
  const observeBreakers = (result: { observe: (value: number, attributes: Record<string, string>) => void }) => {
    for (const upstream of Object.values(upstreams)) result.observe(upstream.state(), { upstream: upstream.name })
  }
  metrics.breakerState.addCallback(observeBreakers)
  metrics.upstreamInstances.addCallback((result) => {
    for (const upstream of Object.values(upstreams)) result.observe(upstream.instanceCount(), { upstream: upstream.name })
  })

  const limiter = config.RATE_LIMIT_ENABLED ? createRateLimiter(app.redis, () => { metrics.rateLimitFailOpen.add(1) }) : undefined
  const timelineFirst = config.UPSTREAM_TIMELINE.split(',')[0]!
  const verifier = createVerifier(config.JWKS_URL ?? `${timelineFirst}/.well-known/jwks.json`)

  const docs = createOpenApiAggregator(Object.values(instances).filter((l): l is string => l !== undefined).map((l) => l.split(',')[0]!))
  void docs.refresh()
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    transformSpecification: () => docs.document(),
    transformSpecificationClone: false
  })

  await app.register(webUi, { root: config.WEB_ROOT ?? defaultWebRoot(), traceUiUrl: config.TRACE_UI_URL?.replace(/\/$/, '') ?? null })

  await app.register(proxy, {
    upstreams,
    verifier,
    limiter,
    policies: {
      redirect: parsePolicy('redirect', config.RATE_LIMIT_REDIRECT),
      read: parsePolicy('read', config.RATE_LIMIT_READ),
      write: parsePolicy('write', config.RATE_LIMIT_WRITE),
      login: parsePolicy('login', config.RATE_LIMIT_LOGIN)
    },
    identitySecret: config.INTERNAL_AUTH_SECRET,
    metrics,
    breakerResetSeconds: Math.ceil(config.BREAKER_RESET_MS / 1000),
    bodyLimit: config.BODY_LIMIT_BYTES
  })

  app.addHook('onClose', async () => {
    metrics.breakerState.removeCallback(observeBreakers)
    docs.close()
    limiter?.close()
    await Promise.all(Object.values(upstreams).map((u) => u.close()))
  })
  return app
}
