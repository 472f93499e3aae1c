// Pino options shared by every service: JSON lines carrying the active trace, secrets redacted,
// pretty output only for a developer at a terminal.
import { trace } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'
import type { LoggerOptions } from 'pino'

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

// Query parameters whose values never reach a log line: the API takes no credentials in URLs,
// but a client that puts them there must not have them written down.
const SENSITIVE_QUERY_NAME = /^(access_?token|id_?token|refresh_?token|token|jwt|password|passwd|pwd|secret|client_?secret|api_?key|key|auth|authorization|session|sig|signature)$/i
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

export function loggerOptions (settings: LoggerSettings): LoggerOptions {
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && settings.nodeEnv !== 'production')
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
