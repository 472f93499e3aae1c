// Configuration from environment variables: each service composes a TypeBox schema from the
// shared parts below, and loadConfig validates it once at start-up.
import envSchema from 'env-schema'
import { Type, type Static, type TObject, type TProperties, type TString } from 'typebox'

/** Thrown when the environment does not satisfy a service's schema; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  readonly variables: string[]

  constructor (service: string, problems: Array<{ variable: string, message: string }>) {
    super(`Invalid configuration for ${service}:\n` +
      problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'))
    this.variables = problems.map((p) => p.variable)
  }
}

const DEV_SECRET = 'x-dev-secret'

/**
 * A secret with a development default. The default keeps `pnpm stack` and the tests
 * zero-config; loadConfig refuses it when NODE_ENV=production.
 */
export function secret (devValue: string, options: { description?: string, minLength?: number } = {}): TString {
  return Type.String({ minLength: options.minLength ?? 16, default: devValue, [DEV_SECRET]: devValue, ...options })
}

const hostPort = '[^\\s,/:]+(:\\d{1,5})?'

/** What every service reads. */
export const baseConfig = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  /** Human-readable logs; defaults to on when stdout is a terminal and NODE_ENV is not production. */
  LOG_PRETTY: Type.Optional(Type.Boolean()),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** OTLP/HTTP collector base URL; traces and metrics are exported only when it is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' }))
}

/** A listening port with a service-specific default. */
export function portConfig (defaultPort: number) {
  return { PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: defaultPort }) }
}

export const postgresConfig = {
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
  PG_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  // Connecting (or waiting for a pooled connection) plus one statement stay under the gateway's
  // UPSTREAM_TIMEOUT_MS (5 s), so a client hears the service's own 503 with Retry-After, not the
  // gateway's 504, when Postgres is down or frozen (a unit test holds the defaults to this).
  PG_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1_500 }),
  /** Postgres cancels a statement after this; the client gives up 500 ms later (see postgres.ts). */
  PG_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2_500 }),
  /** Apply pending migrations when the service starts (otherwise run the service's `migrate` script). */
  MIGRATE_ON_START: Type.Boolean({ default: true })
}

export const redisConfig = {
  REDIS_URL: Type.String({ pattern: '^rediss?://' }),
  /** Prepended to every key: lets several stacks (or test runs) share one Redis. */
  REDIS_KEY_PREFIX: Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9:_-]*$', default: '' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 1_000 })
}

export const kafkaConfig = {
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: Type.String({ pattern: `^${hostPort}(,${hostPort})*$` }),
  KAFKA_TOPIC_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1_000, default: 6 }),
  /** How long start-up waits for an unreachable broker before the service starts degraded. */
  KAFKA_START_WAIT_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 10_000 }),
  /** Attempts at handling one message before it goes to <topic>.dlq. */
  KAFKA_HANDLER_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 5 })
}

interface AjvError { instancePath: string, keyword: string, message?: string, params: Record<string, unknown> }

function describeErrors (errors: AjvError[], env: Record<string, string | undefined>) {
  const seen = new Set<string>()
  const problems: Array<{ variable: string, message: string }> = []
  for (const e of errors) {
    const variable = e.keyword === 'required' ? String(e.params['missingProperty']) : e.instancePath.split('/')[1] ?? '(root)'
    // A union reports once per branch; one line per variable is what a reader needs.
    if (seen.has(variable)) continue
    seen.add(variable)
    if (e.keyword === 'required') {
      problems.push({ variable, message: 'is required but not set' })
    } else {
      const allowed = e.keyword === 'anyOf' || e.keyword === 'const'
        ? 'is not one of the allowed values'
        : (e.message ?? 'is invalid')
      problems.push({ variable, message: `${allowed} (got ${JSON.stringify(env[variable])})` })
    }
  }
  return problems
}

/**
 * Validates `env` against the service's schema, applying defaults and coercing numbers and
 * booleans. Throws ConfigError naming each missing or malformed variable, and refuses
 * development secrets in production.
 */
export function loadConfig<P extends TProperties> (
  service: string,
  schema: TObject<P>,
  env: Record<string, string | undefined> = process.env
): Static<TObject<P>> {
  // Only the schema's own variables reach the validator: env-schema strips the rest anyway,
  // and a copy keeps the caller's object untouched.
  const data: Record<string, string> = {}
  for (const key of Object.keys(schema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') data[key] = value
  }
  let config: Record<string, unknown>
  try {
    config = envSchema({
      schema: structuredClone(schema) as never,
      data,
      env: false,
      dotenv: false,
      ajv: { customOptions: (ajv) => ajv.addKeyword(DEV_SECRET) }
    })
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors
    if (!errors) throw err
    throw new ConfigError(service, describeErrors(errors, env))
  }
  if (config['NODE_ENV'] === 'production') {
    const refused = Object.entries(schema.properties)
      .filter(([key, prop]) => DEV_SECRET in prop && config[key] === (prop as Record<string, unknown>)[DEV_SECRET])
      .map(([variable]) => ({ variable, message: 'must be set to a real secret in production (the development default is refused)' }))
    if (refused.length > 0) throw new ConfigError(service, refused)
  }
  return config as Static<TObject<P>>
}

/** The names of a schema's secret variables, so logs can redact them. */
export function secretNames (schema: TObject): string[] {
  return Object.entries(schema.properties).filter(([, p]) => DEV_SECRET in p).map(([k]) => k)
}
