// Pino options shared by every service: JSON lines carrying the active trace, secrets redacted,
// pretty output only for a developer at a terminal.
import { trace } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'
import pino, { type DestinationStream, type LoggerOptions } from 'pino'

export interface LoggerSettings {
  service: string
  level: string
  nodeEnv: string
  pretty?: boolean | undefined
  /** Extra paths to redact (config secrets, credentials in bodies). */
  redact?: string[]
}

/** Adds the active span's ids so a log line can be found from its trace and back. */
export function traceMixin (): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext()
  if (!ctx || !trace.isSpanContextValid(ctx)) return {}
  return { trace_id: ctx.traceId, span_id: ctx.spanId }
}

/**
 * The active sampled span as a W3C `traceresponse` value (00-trace-span-01), so a client can
 * look its own request up in the tracing UI; undefined when the request is not traced.
 */
export function traceResponse (): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext()
  if (!ctx || !trace.isSpanContextValid(ctx) || (ctx.traceFlags & 1) !== 1) return undefined
  return `00-${ctx.traceId}-${ctx.spanId}-01`
}

// Query parameters whose values never reach a log line: the API takes no credentials in URLs,
// but a client that puts them there must not have them written down.
const SENSITIVE_QUERY_NAMES = [
  'access_?token', 'id_?token', 'refresh_?token', 'token', 'jwt',
  'password', 'passwd', 'pwd', 'secret', 'client_?secret', 'api_?key', 'key',
  'auth', 'authorization', 'session', 'sig', 'signature'
]
const SENSITIVE_QUERY_NAME = new RegExp(`^(${SENSITIVE_QUERY_NAMES.join('|')})$`, 'i')
const JWT_LIKE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g

/** The URL as it may be logged: anything shaped like a JWT, and the values of credential-named query parameters, replaced. */
export function redactUrl (url: string): string {
  const masked = url.replace(JWT_LIKE, '[redacted]')
  const q = masked.indexOf('?')
  if (q < 0) return masked
  const pairs = masked.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    let decoded = name
    try {
      decoded = decodeURIComponent(name.replaceAll('+', ' '))
    } catch {}
    return SENSITIVE_QUERY_NAME.test(decoded.trim()) ? `${name}=[redacted]` : pair
  })
  return `${masked.slice(0, q + 1)}${pairs.join('&')}`
}

/** Fastify's request serializer, with the URL redacted. */
function serializeRequest (request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}

/** Lines held before a write: one syscall per ~4 KiB of log instead of one per line. */
export const LOG_BUFFER_BYTES = 4096
/** The longest a line waits in the buffer when traffic is too thin to fill it. */
export const LOG_FLUSH_INTERVAL_MS = 1_000

export interface BufferedLogDestination {
  stream: DestinationStream
  /** Writes what is buffered and stops the interval (the process-exit hook flushes too). */
  close: () => void
}

/**
 * Standard output, buffered and written asynchronously. A synchronous write per access-log line
 * was the largest single cost of a proxied request (docs/performance.md). What a crash can lose:
 * the lines of the last second, at most LOG_BUFFER_BYTES — pino flushes the buffer on a normal
 * exit, process.exit and an uncaught error; only SIGKILL or an out-of-memory kill loses it.
 */
export function bufferedStdout (): BufferedLogDestination {
  const stream = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES })
  const timer = setInterval(() => { stream.flush() }, LOG_FLUSH_INTERVAL_MS)
  timer.unref()
  return {
    stream,
    close () {
      clearInterval(timer)
      stream.flush()
    }
  }
}

export function isPretty (settings: Pick<LoggerSettings, 'pretty' | 'nodeEnv'>): boolean {
  return settings.pretty ?? (process.stdout.isTTY === true && settings.nodeEnv !== 'production')
}

export function loggerOptions (settings: LoggerSettings): LoggerOptions {
  const pretty = isPretty(settings)
  return {
    level: settings.level,
    base: { service: settings.service },
    mixin: traceMixin,
    serializers: { req: serializeRequest },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.password',
        'password',
        ...(settings.redact ?? [])
      ],
      censor: '[redacted]'
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
