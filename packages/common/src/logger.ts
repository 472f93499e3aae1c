// Pino options shared by every service: JSON lines carrying the active trace, secrets redacted,
// pretty output only for a developer at a terminal.
import { trace } from '@opentelemetry/api'
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

export function loggerOptions (settings: LoggerSettings): LoggerOptions {
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && settings.nodeEnv !== 'production')
  return {
    level: settings.level,
    base: { service: settings.service },
    mixin: traceMixin,
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
