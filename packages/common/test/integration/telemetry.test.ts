// The OpenTelemetry bootstrap really patches the ESM-imported clients: one HTTP request yields
// one trace holding the server span, the Fastify route, and the pg, ioredis and kafkajs spans.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, test } from 'node:test'
import { freePort } from '@shortfeed/infra'
import { createTestDatabase, eventually, testServers, uniqueName } from '@shortfeed/test-harness'

interface SpanLine { name: string, kind: number, traceId: string, spanId: string, parentSpanId?: string, scope: string }

test('when a request touches Postgres, Redis and Kafka, then all their spans join the request\'s trace', async () => {
  const servers = await testServers()
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', new URL('../fixtures/telemetry-preload.ts', import.meta.url).pathname, new URL('../fixtures/telemetry-app.ts', import.meta.url).pathname], {
    env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: await createTestDatabase('otel'), REDIS_URL: servers.redisUrl, KAFKA_BROKERS: servers.kafkaBrokers, TOPIC: uniqueName('otel').replaceAll('_', '.'), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  after(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve() })
    child.once('exit', (code) => { reject(new Error(`fixture exited with ${code}`)) })
  })

  const response = await fetch(`http://127.0.0.1:${port}/work`)
  assert.equal(response.status, 200)
  // The server span ends after the response is written, so it is exported a moment later.
  // (GET /spans makes root spans of its own: the one wanted is the root over the pg span.)
  const rootSpan = (spans: SpanLine[]) => {
    const pgSpan = spans.find((s) => s.scope === '@opentelemetry/instrumentation-pg')
    return spans.find((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 1 && !s.parentSpanId && s.traceId === pgSpan?.traceId)
  }
  const spans = await eventually(async () => (await (await fetch(`http://127.0.0.1:${port}/spans`)).text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpanLine), (all) => rootSpan(all) !== undefined)
  const server = rootSpan(spans)
  assert.ok(server, `no HTTP server span in ${JSON.stringify(spans.map((s) => s.name))}`)
  const trace = spans.filter((s) => s.traceId === server.traceId)
  const scopes = new Set(trace.map((s) => s.scope))
  for (const expected of ['@fastify/otel', '@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-ioredis', '@opentelemetry/instrumentation-kafkajs']) {
    assert.ok(scopes.has(expected), `missing ${expected} in trace: ${JSON.stringify(trace.map((s) => `${s.scope} ${s.name}`))}`)
  }
  // Every span of the trace hangs, through its parents, off the server span.
  const byId = new Map(trace.map((s) => [s.spanId, s]))
  for (const span of trace) {
    let cursor: SpanLine | undefined = span
    while (cursor?.parentSpanId) cursor = byId.get(cursor.parentSpanId)
    assert.equal(cursor?.spanId, server.spanId, `${span.name} is not under the request span`)
  }
})
