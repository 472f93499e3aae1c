// Builds the notifier in-process against the harness's real Postgres, Redis and Kafka, with
// its own database, consumer group and key prefix; user profiles come from a small HTTP
// server the test controls (it can fail on purpose). Events are produced to the real topics
// the way the timeline and shortener produce them.
import { createServer } from 'node:http'
import { after } from 'node:test'
import { createEvent, createEventProducer, createKafka, loadConfig, signIdentity, type EventEnvelope, type EventProducer, type KafkaClient } from '@shortfeed/common'
import { startTelemetry } from '@shortfeed/common/telemetry'
import { createTestDatabase, eventually, metricCounter as counter, newGroupAtEnd, testServers, uniqueName } from '@shortfeed/test-harness'

startTelemetry({ serviceName: 'notifier-test' })
const { buildApp } = await import('../src/app.ts')
const { NotifierConfig } = await import('../src/config.ts')
const { NOTIFIER_TOPICS } = await import('../src/pipeline.ts')

export const INTERNAL_AUTH_SECRET = 'test-internal-auth-secret-0123456789'

/** A users API: profiles by id and by handle; `failing` makes it answer 500. */
export async function usersApi () {
  const users = new Map<string, { id: string, handle: string }>()
  // failing: a bug answers 500 (handling fails, the message is poison); unavailable: the API
  // is down or restarting (503), an outage to wait out.
  const state = { failing: false, unavailable: false, requests: [] as string[] }
  const server = createServer((req, res) => {
    state.requests.push(req.url ?? '')
    if (state.failing || state.unavailable) {
      res.writeHead(state.failing ? 500 : 503).end()
      return
    }
    const byId = /^\/api\/v1\/users\/(\d+)$/.exec(req.url ?? '')
    const byHandle = /^\/api\/v1\/users\/by-handle\/(\w+)$/.exec(req.url ?? '')
    const user = byId ? users.get(byId[1]!) : byHandle ? [...users.values()].find((u) => u.handle.toLowerCase() === byHandle[1]!.toLowerCase()) : undefined
    if (!user) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(user))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  after(() => { server.closeAllConnections(); server.close() })
  const address = server.address()
  let next = BigInt(Date.now()) * 1000n
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    state,
    add (handle = uniqueName('u').slice(0, 30)) {
      const user = { id: String(next++), handle }
      users.set(user.id, user)
      return user
    }
  }
}

export async function buildNotifier (env: Record<string, string>) {
  const servers = await testServers()
  // A group of its own starts at the topics' end; a test that names the group keeps its offsets.
  const group = env['NOTIFIER_GROUP'] ?? await newGroupAtEnd('notifier', NOTIFIER_TOPICS)
  const config = loadConfig('notifier', NotifierConfig, {
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    DATABASE_URL: await createTestDatabase('notifier'),
    REDIS_URL: servers.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueName('n')}:`,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    INTERNAL_AUTH_SECRET,
    NOTIFIER_GROUP: group,
    ...env
  })
  const app = await buildApp(config)
  after(() => app.close())
  return app
}

export interface TestEventProducer {
  kafka: KafkaClient
  producer: EventProducer
  publish: (topic: string, key: string, data: unknown, event?: EventEnvelope) => Promise<EventEnvelope>
}

export async function eventProducer (): Promise<TestEventProducer> {
  const kafka = createKafka({ clientId: 'notifier-test', brokers: (await testServers()).kafkaBrokers })
  const producer = createEventProducer(kafka)
  await producer.connect()
  after(() => producer.disconnect())
  return {
    kafka,
    producer,
    async publish (topic: string, key: string, data: unknown, event?: EventEnvelope) {
      const envelope = event ?? createEvent(topic, data, { source: 'test' })
      await producer.publish(topic, [{ key, event: envelope }])
      return envelope
    }
  }
}

export function asUser (userId: string): Record<string, string> {
  return signIdentity(INTERNAL_AUTH_SECRET, userId)
}

export { counter, eventually, uniqueName }
