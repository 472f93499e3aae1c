// Real upstreams for the gateway's tests: the shortener and timeline services started as
// processes (their own server.ts) on real Postgres, Redis and Kafka, plus tiny HTTP servers
// that hang or fail on purpose. The gateway itself is built in-process after telemetry
// starts, so GET /metrics is live.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { after } from 'node:test'
import { loadConfig } from '@shortfeed/common'
import { startTelemetry } from '@shortfeed/common/telemetry'
import { createTestDatabase, eventually, metricCounter as counter, startServiceProcess, testServers, uniqueName } from '@shortfeed/test-harness'

startTelemetry({ serviceName: 'gateway-test' })
const { buildApp } = await import('../src/app.ts')
const { GatewayConfig } = await import('../src/config.ts')

export const INTERNAL_AUTH_SECRET = 'test-internal-auth-secret-0123456789'

/** Starts services/<name> as a process on the harness's servers; resolves with its base URL once ready. */
export async function startService (name: string, entry = 'src/server.ts', extraEnv: Record<string, string> = {}): Promise<string> {
  const servers = await testServers()
  return startServiceProcess({
    dir: name,
    entry,
    env: {
      DATABASE_URL: await createTestDatabase(name),
      REDIS_URL: servers.redisUrl,
      REDIS_KEY_PREFIX: `${uniqueName(name)}:`,
      KAFKA_BROKERS: servers.kafkaBrokers,
      KAFKA_TOPIC_PARTITIONS: '3',
      INTERNAL_AUTH_SECRET,
      ...extraEnv
    }
  })
}

export async function gatewayConfig (env: Record<string, string>) {
  const servers = await testServers()
  return loadConfig('gateway', GatewayConfig, {
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    REDIS_URL: servers.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueName('gw')}:`,
    // A check that outwaited its Redis timeout would be decided by the fail-open fallback; these
    // tests count decisions made in Redis, so only a test about the fallback sets a short one.
    REDIS_COMMAND_TIMEOUT_MS: '20000',
    // Shedding is for a loaded machine, and a test machine may be one: a loop stalled for a whole
    // sample reads as an infinite delay and sheds every request. Only the load-shedding test,
    // which creates the pressure itself, turns it on.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    INTERNAL_AUTH_SECRET,
    ...env
  })
}

export async function buildGateway (env: Record<string, string>) {
  const app = await buildApp(await gatewayConfig(env))
  after(() => app.close())
  return app
}

/**
 * A local HTTP server whose behaviour the test changes; counts the API requests it saw (the
 * gateway's background fetch of /openapi.json is answered 404 and not counted).
 */
export async function fakeUpstream (handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const state = { calls: 0, handler }
  const server: Server = createServer((req, res) => {
    if (req.url === '/openapi.json') {
      res.writeHead(404).end()
      return
    }
    state.calls++
    state.handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  after(() => { server.closeAllConnections(); server.close() })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, state }
}

export { counter, eventually, uniqueName }
