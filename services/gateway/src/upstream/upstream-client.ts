// Calls to one upstream service: keep-alive connection pools (undici) to each of its instances
// (every address its name resolves to, kept fresh: instances.ts), round-robin between them, a
// timeout on every call, retries with exponential backoff and full jitter for idempotent
// requests only (each retry on the next instance), and a circuit breaker (opossum) that fails
// fast while the upstream keeps failing.
//
// undici is used directly rather than through @fastify/reply-from because the breaker and the
// retries need each attempt as a promise they can time, count and repeat.
import { backoffDelay, sleep } from '@shortfeed/common'
import CircuitBreaker from 'opossum'
import { Pool, type Dispatcher } from 'undici'
import { watchInstances, type Resolve } from './instances.ts'

export interface UpstreamRequest {
  method: string
  /** Path and query string. */
  path: string
  headers: Record<string, string>
  body?: Buffer | undefined
  /** Long-lived response (SSE): no body timeout, no retry. */
  streaming?: boolean
}

export interface UpstreamResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: Dispatcher.ResponseData['body']
}

export interface UpstreamOptions {
  name: string
  instances: string[]
  timeoutMs: number
  retries: number
  connections: number
  breaker: { errorThresholdPercentage: number, volumeThreshold: number, resetTimeout: number }
  onRetry?: () => void
  /** Re-resolve the instances' names this often (instances.ts); 0 or absent: never. */
  resolveIntervalMs?: number
  onInstances?: (origins: string[]) => void
  onResolveError?: (err: unknown) => void
  /** Name resolution; the system's (dns.lookup) unless given. */
  resolve?: Resolve
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
const RETRYABLE_STATUS = new Set([502, 503, 504])

/** A failed attempt: the breaker counts it; a response, if any, can still be forwarded. */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure'
  readonly response: UpstreamResponse | undefined
  readonly timedOut: boolean

  constructor (message: string, response?: UpstreamResponse, timedOut = false) {
    super(message)
    this.response = response
    this.timedOut = timedOut
  }
}

export function createUpstream (options: UpstreamOptions) {
  const newPool = (origin: string) => new Pool(origin, {
    connections: options.connections,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs
  })
  // Keyed by origin; `pools` is the round-robin order. Until the first resolution the URLs are
  // used as configured (undici resolves a name itself, to one address).
  const byOrigin = new Map(options.instances.map((url) => [new URL(url).origin, newPool(url)]))
  let pools = [...byOrigin.values()]
  let next = 0

  /** Uses exactly these origins from now on; pools of origins that went are closed once idle. */
  function setInstances (origins: string[]) {
    const wanted = new Set(origins)
    for (const [origin, pool] of byOrigin) {
      if (!wanted.has(origin)) {
        byOrigin.delete(origin)
        void pool.close().catch(() => {})
      }
    }
    for (const origin of origins) if (!byOrigin.has(origin)) byOrigin.set(origin, newPool(origin))
    pools = [...byOrigin.values()]
  }

  const watcher = watchInstances({
    urls: options.instances,
    intervalMs: options.resolveIntervalMs ?? 0,
    onChange: (origins) => {
      setInstances(origins)
      options.onInstances?.(origins)
    },
    onError: options.onResolveError,
    resolve: options.resolve
  })

  async function attempt (request: UpstreamRequest, pool: Pool): Promise<UpstreamResponse> {
    try {
      const response = await pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        headersTimeout: options.timeoutMs,
        bodyTimeout: request.streaming ? 0 : options.timeoutMs
      })
      const result = { statusCode: response.statusCode, headers: response.headers, body: response.body }
      // 5xx other than a deliberate 503 counts against the upstream's health.
      if (response.statusCode >= 500 && response.statusCode !== 503) {
        throw new UpstreamFailure(`${options.name} answered ${response.statusCode}`, result)
      }
      return result
    } catch (err) {
      if (err instanceof UpstreamFailure) throw err
      const { code } = err as { code?: string }
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
      throw new UpstreamFailure(`${options.name} ${timedOut ? 'timed out' : `unreachable: ${(err as Error).message}`}`, undefined, timedOut)
    }
  }

  async function withRetries (request: UpstreamRequest): Promise<UpstreamResponse> {
    const retries = IDEMPOTENT.has(request.method) && !request.streaming ? options.retries : 0
    for (let tryNumber = 0; ; tryNumber++) {
      const pool = pools[next++ % pools.length]!
      let failure: UpstreamFailure
      try {
        const response = await attempt(request, pool)
        if (!RETRYABLE_STATUS.has(response.statusCode) || tryNumber >= retries) return response
        failure = new UpstreamFailure(`${options.name} answered ${response.statusCode}`, response)
      } catch (err) {
        failure = err as UpstreamFailure
        if (tryNumber >= retries) throw failure
      }
      // Discard the failed response's body so its connection goes back to the pool.
      await failure.response?.body.dump().catch(() => {})
      options.onRetry?.()
      await sleep(backoffDelay(tryNumber + 1, { initialMs: 50, maxMs: 1_000 }))
    }
  }

  const breaker = new CircuitBreaker(withRetries, {
    name: options.name,
    // Timeouts are undici's (per attempt); the breaker only counts outcomes.
    timeout: false,
    errorThresholdPercentage: options.breaker.errorThresholdPercentage,
    volumeThreshold: options.breaker.volumeThreshold,
    resetTimeout: options.breaker.resetTimeout,
    rollingCountTimeout: 10_000
  })

  return {
    name: options.name,
    breaker,
    /** Sends the request; rejects with UpstreamFailure, or opossum's EOPENBREAKER while open. */
    call: (request: UpstreamRequest) => breaker.fire(request) as Promise<UpstreamResponse>,
    /** 0 closed, 1 half-open, 2 open. */
    state: () => (breaker.opened ? 2 : breaker.halfOpen ? 1 : 0),
    /** How many instances requests are spread over now. */
    instanceCount: () => pools.length,
    /** Resolves the names again now (tests; otherwise every resolveIntervalMs). */
    refreshInstances: () => watcher.refresh(),
    async close () {
      watcher.stop()
      breaker.shutdown()
      await Promise.all(pools.map((p) => p.close()))
    }
  }
}

export type Upstream = ReturnType<typeof createUpstream>
