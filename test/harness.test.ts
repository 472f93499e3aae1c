// The harness's own proof: each real server answers through the client the services use.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { createTestDatabase, eventually, testServers, uniqueName } from './harness.ts'

const servers = await testServers()

describe('test harness', () => {
  test('when a test asks for a database, then it gets a fresh one it can write and read', async () => {
    const url = await createTestDatabase('harness')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    after(() => client.end())
    const tables = await client.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = \'public\'')
    assert.equal(tables.rows[0].n, 0)
    await client.query('CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)')
    await client.query('INSERT INTO note VALUES ($1, $2)', [1, 'héllo'])
    const { rows } = await client.query('SELECT body FROM note WHERE id = 1')
    assert.deepEqual(rows, [{ body: 'héllo' }])
  })

  test('when a value is set in Redis, then it can be read back', async () => {
    const redis = new Redis(servers.redisUrl)
    after(() => redis.quit())
    const key = uniqueName('harness')
    await redis.set(key, 'value', 'EX', 60)
    assert.equal(await redis.get(key), 'value')
  })

  test('when kafkajs produces a message with headers, then a consumer receives value and headers', async () => {
    const kafka = new Kafka({ clientId: 'harness-test', brokers: servers.kafkaBrokers.split(','), logLevel: logLevel.NOTHING })
    const topic = uniqueName('harness')
    const admin = kafka.admin()
    await admin.connect()
    after(() => admin.disconnect())
    // Not waitForLeaders: kafkajs gives up when Kafka 4 briefly reports a new topic unknown; the send below retries.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: false })

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    after(() => producer.disconnect())
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'payload', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }] })

    const consumer = kafka.consumer({ groupId: uniqueName('harness') })
    await consumer.connect()
    // Disconnected whatever happens: a consumer left connected keeps this file's process alive.
    after(() => consumer.disconnect())
    await consumer.subscribe({ topic, fromBeginning: true })
    const messages: Array<{ key: string, value: string, traceparent: string }> = []
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push({ key: String(message.key), value: String(message.value), traceparent: String(message.headers?.['traceparent']) })
      }
    })
    const [received] = await eventually(async () => messages, (m) => m.length > 0, 90_000)
    assert.deepEqual(received, { key: 'k1', value: 'payload', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
  })
})
