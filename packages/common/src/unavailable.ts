// Telling "a dependency is unreachable right now" (Postgres, Redis, Kafka or another service
// down, restarting or frozen) apart from every other failure. Such an error is worth waiting
// out: an HTTP request gets a 503 with Retry-After instead of an opaque 500, and a consumer
// keeps retrying the message instead of parking it in the dead-letter topic, where an outage
// would otherwise strand every event that arrived during it.

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  // Postgres: admin/crash shutdown, cannot connect now, connection failures.
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
  // A service of ours answering 502/503/504 (see UpstreamUnavailableError).
  'UPSTREAM_UNAVAILABLE'
])

const UNAVAILABLE_MESSAGES = new RegExp([
  // pg: the pool cannot connect; a connection died under a query, or earlier.
  'timeout exceeded when trying to connect', 'Connection terminated', 'is not queryable',
  // pg: the client's query_timeout (the server did not answer in time: frozen or overloaded).
  'Query read timeout',
  // ioredis: disconnected without an offline queue; no answer within commandTimeout; a
  // connection that dropped with the command in flight.
  'Connection is closed', "Stream isn't writeable", 'Command timed out', 'Reached the max retries per request limit'
].join('|'))

/** An error saying another service of ours answered 502, 503 or 504. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError'
  readonly code = 'UPSTREAM_UNAVAILABLE'
}

export function isDependencyUnavailable (error: unknown, depth = 0): boolean {
  const err = error as { code?: unknown, message?: unknown, name?: unknown, cause?: unknown }
  if (typeof err?.code === 'string' && UNAVAILABLE_CODES.has(err.code)) return true
  // fetch() wraps the socket error: TypeError('fetch failed', { cause }); its timeout is a TimeoutError.
  if (err?.name === 'TimeoutError') return true
  if (err?.cause !== undefined && depth < 3 && isDependencyUnavailable(err.cause, depth + 1)) return true
  const message = typeof err?.message === 'string' ? err.message : ''
  return UNAVAILABLE_MESSAGES.test(message)
}
