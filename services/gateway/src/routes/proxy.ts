// The edge: every public request passes here. Route → authenticate → rate-limit → call the
// upstream (timeouts, retries, breaker) → stream the answer back. Every response carries the
// rate-limit headers; every refusal is a problem document.
import createError from '@fastify/error'
import { createRetryableError, signIdentity, traceResponse } from '@shortfeed/common'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TokenMissing } from '../auth/jwt-verifier.ts'
import type { Decision, Policy } from '../rate-limit/rate-limiter.ts'
import { matchRoute, pathExists, type PolicyName } from '../routing.ts'
import { UpstreamFailure, type UpstreamResponse } from '../upstream/upstream-client.ts'

export const RouteNotFound = createError('GATEWAY_ROUTE_NOT_FOUND', 'No route for %s %s', 404)
export const MethodNotAllowed = createError('GATEWAY_METHOD_NOT_ALLOWED', '%s is not supported on %s', 405)
export const RateLimited = createRetryableError('GATEWAY_RATE_LIMITED', 'Too many %s requests; retry after %d seconds', 429)
export const UpstreamUnavailable = createRetryableError('GATEWAY_UPSTREAM_UNAVAILABLE', 'The %s service is unavailable; retry shortly', 503)
export const UpstreamTimeout = createRetryableError('GATEWAY_UPSTREAM_TIMEOUT', 'The %s service did not answer in time', 504)
export const UpstreamUnreachable = createRetryableError('GATEWAY_UPSTREAM_UNREACHABLE', 'The %s service could not be reached', 502)

/** Settings; the upstreams, the verifier, the limiter and the instruments come from plugins. */
export interface ProxyOptions {
  policies: Record<PolicyName, Policy>
  identitySecret: string
  breakerResetSeconds: number
  bodyLimit: number
}

/** A failed or slow upstream is usually a restart or a failover: seconds, not minutes. */
const UPSTREAM_RETRY_AFTER_SECONDS = 2

/** Upstream bodies up to this size (with a Content-Length) are read whole before answering. */
const BUFFERED_BODY_MAX_BYTES = 64 * 1024

/** Request headers an upstream may see; everything else (cookies, Authorization, spoofed identity) stays at the edge. */
const FORWARDED_REQUEST_HEADERS = [
  'content-type', 'accept', 'accept-language', 'idempotency-key', 'user-agent', 'referer', 'last-event-id', 'if-none-match',
  'if-modified-since'
]
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer'
])

function rateLimitHeaders (reply: FastifyReply, policyHeader: string, decision: Decision) {
  void reply.headers({
    'ratelimit-policy': policyHeader,
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds)
  })
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The public route's name (routing.ts) once matched, for the per-route metrics. */
    publicRoute: string
  }
}

export default async function proxy (app: FastifyInstance, options: ProxyOptions) {
  const { gatewayMetrics: metrics, upstreams, tokenVerifier: verifier, rateLimiter: limiter } = app
  // RateLimit-Policy per policy, built once: it never changes while the gateway runs.
  const policyHeaders = new Map(Object.values(options.policies).map((p) => [p, `${p.limit};w=${p.periodSeconds};name="${p.name}"`]))
  // Bodies are passed through untouched (and buffered, so an idempotent request can be retried).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) => { done(null, body) })

  // RED per public route: the catch-all route's own pattern would say nothing. A request
  // decoration rather than a WeakMap: per-request weak keys are extra work for every collection.
  app.decorateRequest('publicRoute', 'unmatched')
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.record(reply.elapsedTime / 1000, { route: request.publicRoute, status: String(reply.statusCode) })
    done()
  })

  async function forward (request: FastifyRequest, reply: FastifyReply) {
    // The trace this request is recorded under (W3C Trace Context's traceresponse), so a client
    // can look its own request up; absent when the request is not traced.
    const traced = traceResponse()
    if (traced) void reply.header('traceresponse', traced)
    const path = request.url.split('?')[0]!
    const route = matchRoute(request.method, path)
    if (route) request.publicRoute = route.name
    if (!route) {
      if (pathExists(path)) throw new MethodNotAllowed(request.method, path)
      throw new RouteNotFound(request.method, path.slice(0, 200))
    }

    const userId = route.auth === 'none' ? null : await verifier.verify(request.headers.authorization)
    if (route.auth === 'required' && userId === null) throw new TokenMissing()

    if (limiter) {
      const policy = options.policies[route.policy]
      // Logins are limited per address whoever claims to log in; the rest per user when known.
      const identity = route.policy === 'login' || userId === null ? `ip:${request.ip}` : `user:${userId}`
      const decision = await limiter.check(policy, identity)
      metrics.rateLimitDecisions.add(1, {
        policy: policy.name,
        decision: decision.allowed ? 'allow' : 'deny',
        store: decision.local ? 'local' : 'redis'
      })
      rateLimitHeaders(reply, policyHeaders.get(policy)!, decision)
      if (!decision.allowed) throw new RateLimited(decision.retryAfterSeconds, policy.name, decision.retryAfterSeconds)
    }

    const upstream = upstreams[route.upstream]
    if (!upstream) throw new RouteNotFound(request.method, path.slice(0, 200))

    const headers: Record<string, string> = {}
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    // request.ips lists the trusted chain closest first (only with TRUST_PROXY); an untrusted
    // client's own X-Forwarded-For is dropped, so it cannot choose its rate-limit identity.
    headers['x-forwarded-for'] = request.ips ? [...request.ips].reverse().join(', ') : request.ip
    headers['x-forwarded-proto'] = request.protocol
    headers['x-request-id'] = request.id
    if (userId !== null) Object.assign(headers, signIdentity(options.identitySecret, userId))

    let response: UpstreamResponse
    try {
      response = await upstream.call({
        method: request.method,
        path: request.url,
        headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
        streaming: route.streaming === true
      })
    } catch (err) {
      if (err instanceof UpstreamFailure && err.response) {
        response = err.response
      } else if ((err as { code?: string }).code === 'EOPENBREAKER') {
        throw new UpstreamUnavailable(options.breakerResetSeconds, route.upstream)
      } else if (err instanceof UpstreamFailure && err.timedOut) {
        // The write may still land upstream: a retry is safe with the same Idempotency-Key.
        throw new UpstreamTimeout(UPSTREAM_RETRY_AFTER_SECONDS, route.upstream)
      } else if (err instanceof UpstreamFailure) {
        throw new UpstreamUnreachable(UPSTREAM_RETRY_AFTER_SECONDS, route.upstream)
      } else {
        throw err
      }
    }

    // A small answer of known length goes out in one write with its headers; piping it would
    // cost a write per chunk plus the stream machinery. SSE and large bodies stream.
    const length = Number(response.headers['content-length'])
    let body: Buffer | UpstreamResponse['body'] = response.body
    if (route.streaming !== true && length <= BUFFERED_BODY_MAX_BYTES) {
      try {
        body = Buffer.from(await response.body.arrayBuffer())
      } catch {
        throw new UpstreamUnreachable(UPSTREAM_RETRY_AFTER_SECONDS, route.upstream)
      }
    }
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && !name.startsWith('x-shortfeed-')) void reply.header(name, value)
    }
    // An empty answer (a redirect) goes out empty: sending a zero-length Buffer would make
    // Fastify label it application/octet-stream.
    return reply.code(response.statusCode).send(Buffer.isBuffer(body) && body.length === 0 ? undefined : body)
  }

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/*',
    handler: forward
  })
}
