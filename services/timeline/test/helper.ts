// Builds the timeline API and its fan-out worker in-process against the harness's real
// servers: each test file gets its own database, Redis key prefix and consumer group, and a low
// celebrity threshold so both fan-out paths run. Telemetry starts before any app is built, so
// the instruments each app makes (src/metrics.ts) record to the provider behind GET /metrics.
import { after } from 'node:test'
import { consumerLag, createKafka, loadConfig, signIdentity } from '@shortfeed/common'
import { startTelemetry } from '@shortfeed/common/telemetry'
import { createTestDatabase, eventually, metricCounter as counter, newGroupAtEnd, testServers, uniqueName } from '@shortfeed/test-harness'

startTelemetry({ serviceName: 'timeline-test' })
const { buildApp } = await import('../src/app.ts')
const { buildFanoutApp } = await import('../src/fanout-app.ts')
const { TimelineConfig, FanoutConfig } = await import('../src/config.ts')
const { FANOUT_TOPICS } = await import('../src/workers/fanout-consumer.ts')

export const INTERNAL_AUTH_SECRET = 'test-internal-auth-secret-0123456789'

export async function testEnv (overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const servers = await testServers()
  // A group of its own starts at the shared topics' end, not behind every other file's events.
  const group = overrides['FANOUT_GROUP'] ?? await newGroupAtEnd('fanout', FANOUT_TOPICS)
  return {
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    DATABASE_URL: await createTestDatabase('timeline'),
    REDIS_URL: servers.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueName('t')}:`,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    INTERNAL_AUTH_SECRET,
    CELEBRITY_FOLLOWER_THRESHOLD: '3',
    FANOUT_GROUP: group,
    ...overrides
  }
}

/** The API and the fan-out worker sharing one environment, closed after the file. */
export async function buildStack (overrides: Record<string, string> = {}, options: { fanout?: boolean } = {}) {
  const env = await testEnv(overrides)
  const api = await buildApp(loadConfig('timeline', TimelineConfig, env))
  after(() => api.close())
  const worker = options.fanout === false ? undefined : await buildFanoutApp(loadConfig('timeline-fanout', FanoutConfig, env))
  if (worker) after(() => worker.app.close())
  return { api, worker, env }
}

/**
 * Messages the fan-out group has not handled yet on any topic it reads: 0 once it has caught up
 * with everything published so far (follows included, whose backfill shows nowhere when the
 * followee has not posted yet).
 */
export function fanoutLag (env: Record<string, string>): () => Promise<number> {
  const lag = consumerLag(createKafka({ clientId: 'timeline-test', brokers: env['KAFKA_BROKERS']! }), env['FANOUT_GROUP']!, FANOUT_TOPICS)
  after(() => lag.close())
  return async () => [...(await lag.read()).values()].reduce((sum, n) => sum + n, 0)
}

/** Headers the gateway would add for this user. */
export function asUser (userId: string): Record<string, string> {
  return signIdentity(INTERNAL_AUTH_SECRET, userId)
}

type Injectable = { inject: (options: { method?: string, url: string, headers?: Record<string, string>, payload?: object }) => Promise<{ statusCode: number, json: () => any, body: string, headers: Record<string, unknown> }> }

export async function register (api: Injectable, handle = uniqueName('u').slice(0, 30)): Promise<{ id: string, handle: string }> {
  const res = await api.inject({ method: 'POST', url: '/api/v1/users', payload: { handle, password: 'correct horse battery' } })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function follow (api: Injectable, followerId: string, followeeId: string) {
  const res = await api.inject({ method: 'PUT', url: `/api/v1/me/following/${followeeId}`, headers: asUser(followerId) })
  if (res.statusCode !== 204) throw new Error(`follow: ${res.statusCode} ${res.body}`)
}

export async function post (api: Injectable, authorId: string, text: string): Promise<{ id: string }> {
  const res = await api.inject({ method: 'POST', url: '/api/v1/posts', headers: asUser(authorId), payload: { text } })
  if (res.statusCode !== 201) throw new Error(`post: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function timeline (api: Injectable, readerId: string, query = ''): Promise<{ items: Array<{ id: string, authorId: string, text: string, source: 'push' | 'pull' }>, nextCursor: string | null }> {
  const res = await api.inject({ url: `/api/v1/timeline${query}`, headers: asUser(readerId) })
  if (res.statusCode !== 200) throw new Error(`timeline: ${res.statusCode} ${res.body}`)
  return res.json()
}

export { buildApp, buildFanoutApp, counter, eventually, uniqueName }
