// The Fastify factory every service builds on (so a service is buildApp(config), testable with
// inject) and runService, the tiny main: validate the environment, build, listen, and close
// gracefully on signals.
import { randomUUID } from 'node:crypto'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import closeWithGrace from 'close-with-grace'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Static, TObject, TProperties } from 'typebox'
import { ConfigError, loadConfig } from '../config.ts'
import { bufferedStdout, isPretty, loggerOptions, redactUrl } from '../logger.ts'
import { prometheusExporter, requestDurationHistogram } from '../metrics.ts'
import { shutdownTelemetry } from '../telemetry-state.ts'
import health from './health.ts'
import { isInternalAddress } from './networks.ts'
import { ID_FORMAT, isInt64Id } from './ids.ts'
import problemDetails, { answerClientError, sendProblem, toProblem } from './problem.ts'

export interface ServerConfig {
  NODE_ENV: string
  LOG_LEVEL: string
  LOG_PRETTY?: boolean | undefined
}

export interface ServerOptions {
  service: string
  /** Version shown in the OpenAPI document. */
  version?: string
  config: ServerConfig
  /** Largest accepted request body; the APIs here take small JSON documents. */
  bodyLimit?: number
  /** Log paths to redact beyond credentials (e.g. a service's secret config names). */
  redact?: string[]
  /** Set for services behind a proxy they trust for X-Forwarded-For. */
  trustProxy?: boolean | string | string[]
  /** Serve this server's own OpenAPI document at /openapi.json (default true; the gateway serves the merged one at /docs instead). */
  openApiRoute?: boolean
  /** Record service_request_duration per route (default true; the gateway keeps its own per public route). */
  requestMetrics?: boolean
}

export async function createServer (options: ServerOptions) {
  const logSettings = {
    service: options.service,
    level: options.config.LOG_LEVEL,
    nodeEnv: options.config.NODE_ENV,
    pretty: options.config.LOG_PRETTY,
    redact: options.redact ?? []
  }
  // A developer's terminal gets pino-pretty (its own worker); everything else buffered JSON lines.
  const destination = isPretty(logSettings) ? undefined : bufferedStdout()
  const app = Fastify({
    logger: { ...loggerOptions(logSettings), ...(destination ? { stream: destination.stream } : {}) },
    // One line per request (below) instead of Fastify's two: half the logging cost on hot paths.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    trustProxy: options.trustProxy ?? false,
    // Slow clients must not hold sockets forever (slowloris).
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    // Malformed requests are problem documents too: what the HTTP parser refuses, and what
    // Fastify's router refuses before any route runs (a bad percent-encoding, an overlong param).
    clientErrorHandler: answerClientError,
    // The response serializer compiles unions with its own ajv: it must know our formats too.
    serializerOpts: { ajv: { formats: { [ID_FORMAT]: { type: 'string', validate: isInt64Id } } } },
    frameworkErrors: (error, request, reply) => { void sendProblem(reply, toProblem(error, request)) }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Query strings, params and headers are text, so "20" may stand for 20 there; a JSON body
  // has real types, and {"url": 42} is a client error, not a URL "42".
  const validators = {
    coercing: newAjv({ coerceTypes: 'array' }),
    strict: newAjv({ coerceTypes: false })
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? validators.strict : validators.coercing).compile(schema))

  // One hook per response for the access log and RED metrics, in callback style: an async hook
  // costs a promise and a microtask per request, which a proxy pays on every redirect.
  // The access line is built flat from chosen fields (the URL redacted by redactUrl) on a child
  // without serializers or redaction paths: walking the redaction paths cost as much as writing
  // the line (docs/performance.md). A route that sets logLevel above info (the redirect) is left out.
  const accessLog = app.log.child({}, { redact: [], serializers: { req: asIs, res: asIs } })
  const duration = options.requestMetrics === false ? undefined : requestDurationHistogram()
  app.addHook('onResponse', (request, reply, done) => {
    if (logsInfo(request.log.level)) {
      accessLog.info({
        reqId: request.id,
        req: {
          method: request.method,
          url: redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort
        },
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime
      }, 'request completed')
    }
    // RED per route: the route's pattern, never the raw URL, so the label set stays bounded.
    duration?.record(reply.elapsedTime / 1000, {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: reply.statusCode
    })
    done()
  })

  // Graceful drain: Fastify closes idle keep-alive sockets when close() starts, but a socket
  // busy at that moment would stay open for the whole keep-alive timeout once its response is
  // sent. Telling the client to close it lets the server finish as soon as the last response
  // is out.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!app.server.listening) void reply.header('connection', 'close')
    done(null, payload)
  })

  if (destination) app.addHook('onClose', async () => { destination.close() })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: `Shortfeed ${options.service}`, version: options.version ?? '0.1.0' }
    }
  })
  await app.register(problemDetails)
  await app.register(health)
  if (options.openApiRoute !== false) app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    // Scrapers live on the same host or network; the public internet does not get to read them.
    if (!isInternalAddress(request.socket.remoteAddress ?? '')) return reply.callNotFound()
    const exporter = prometheusExporter()
    if (!exporter) return reply.code(404).type('text/plain').send('telemetry is not started in this process\n')
    reply.hijack()
    exporter.getMetricsRequestHandler(request.raw, reply.raw)
  })
  return app
}

const asIs = <T>(value: T): T => value
const QUIETER_THAN_INFO = new Set(['warn', 'error', 'fatal', 'silent'])
/** Whether a logger at this level writes info lines (a route may set a quieter one). */
const logsInfo = (level: string) => !QUIETER_THAN_INFO.has(level)

function newAjv (options: { coerceTypes: boolean | 'array' }): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, removeAdditional: true, strict: false, ...options })
  addFormats.default(ajv)
  ajv.addFormat(ID_FORMAT, { type: 'string', validate: isInt64Id })
  return ajv
}

export interface RunServiceOptions<P extends TProperties> {
  service: string
  schema: TObject<P>
  build: (config: Static<TObject<P>>) => Promise<FastifyInstance>
  env?: Record<string, string | undefined>
}

/**
 * Starts a service: a bad environment stops the process with a message naming every bad
 * variable (exit code 78, EX_CONFIG); SIGINT/SIGTERM drain HTTP, then close consumers,
 * producers and pools (Fastify onClose hooks, last registered first), then flush telemetry.
 */
export async function runService<P extends TProperties> (options: RunServiceOptions<P>): Promise<FastifyInstance> {
  let config: Static<TObject<P>>
  try {
    config = loadConfig(options.service, options.schema, options.env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(78)
  }
  const settings = config as unknown as { PORT: number, HOST: string, SHUTDOWN_GRACE_MS: number }
  const app = await options.build(config)
  closeWithGrace({ delay: settings.SHUTDOWN_GRACE_MS, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an uncaught error')
    else app.log.info({ signal }, 'shutting down gracefully')
    await app.close()
    await shutdownTelemetry()
  })
  await app.listen({ port: settings.PORT, host: settings.HOST })
  return app
}
