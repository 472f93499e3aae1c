// One request, one trace, across processes: creating a post through the gateway yields a trace
// holding the gateway's span, the timeline's, its pg insert, the outbox relay's Kafka produce
// and the fan-out worker's consume — linked parent to child through HTTP and Kafka headers.
// The services run as real processes with the production telemetry preload, exporting
// OTLP/JSON to a receiver in this test.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, test } from 'node:test'
import { createTestDatabase, eventually, startServiceProcess, testServers, uniqueName } from '../harness.ts'

interface Span { traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number, service: string }

const spans: Span[] = []
const receiver = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => { body += chunk.toString() })
  req.on('end', () => {
    if (req.url === '/v1/traces') {
      const payload = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: { stringValue?: string } }> }, scopeSpans: Array<{ spans: Array<Omit<Span, 'service'>> }> }> }
      for (const rs of payload.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?'
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service })
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})

function startTraced (service: string, dir: string, entry: string, env: Record<string, string>): Promise<string> {
  return startServiceProcess({ dir, entry, preload: true, env: { SERVICE_NAME: service, ...env } })
}

test('a post created through the gateway is one trace from the edge to the fan-out worker', async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  after(() => { receiver.close() })
  const address = receiver.address()
  const otlp = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const servers = await testServers()
  const shared = {
    REDIS_URL: servers.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueName('trace')}:`,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    INTERNAL_AUTH_SECRET: 'test-internal-auth-secret-0123456789',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200'
  }
  const database = await createTestDatabase('trace')
  const timeline = await startTraced('timeline', 'timeline', 'src/server.ts', { ...shared, DATABASE_URL: database })
  await startTraced('timeline-fanout', 'timeline', 'src/fanout-server.ts', { ...shared, DATABASE_URL: database, FANOUT_GROUP: uniqueName('fanout') })
  const gateway = await startTraced('gateway', 'gateway', 'src/server.ts', { ...shared, UPSTREAM_SHORTENER: timeline, UPSTREAM_TIMELINE: timeline })

  const json = { 'content-type': 'application/json' }
  const handle = uniqueName('tr').slice(0, 30)
  await fetch(`${gateway}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ handle, password: 'correct horse' }) })
  const { accessToken } = await (await fetch(`${gateway}/api/v1/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ handle, password: 'correct horse' }) })).json() as { accessToken: string }
  const created = await fetch(`${gateway}/api/v1/posts`, { method: 'POST', headers: { ...json, authorization: `Bearer ${accessToken}` }, body: JSON.stringify({ text: 'traced' }) })
  assert.equal(created.status, 201)
  // The gateway tells the client which trace its request is (W3C traceresponse): the web UI
  // links it to Jaeger.
  const traceresponse = created.headers.get('traceresponse') ?? ''
  assert.match(traceresponse, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)

  // Spans leave each process in batches, on its own schedule: wait until the trace has every hop
  // and every span's parent, then check it.
  const expected: Array<[string, RegExp, string]> = [
    ['gateway', /^POST/, 'gateway server span'],
    ['timeline', /POST \/api\/v1\/posts|^POST/, 'timeline server span'],
    ['timeline', /INSERT|pg\.query|insert/i, 'pg insert in the timeline'],
    ['timeline', /post\.created/, 'the outbox relay\'s produce to post.created'],
    ['timeline-fanout', /post\.created/, 'the fan-out worker\'s consume of post.created']
  ]
  const roots = () => spans.filter((s) => s.service === 'gateway' && s.kind === 2 && s.name.startsWith('POST') && !s.parentSpanId)
  const traceOf = (root: Span) => spans.filter((s) => s.traceId === root.traceId)
  const missing = (trace: Span[]) => expected.filter(([service, pattern]) => !trace.some((s) => s.service === service && pattern.test(s.name))).map(([, , what]) => what)
  const orphans = (trace: Span[]) => trace.filter((s) => s.parentSpanId && !trace.some((p) => p.spanId === s.parentSpanId))
  const edge = await eventually(() => roots().find((root) => missing(traceOf(root)).length === 0 && orphans(traceOf(root)).length === 0), (found) => found !== undefined, 90_000).catch(() => undefined)
  const seen = roots().map((root) => ({ missing: missing(traceOf(root)), orphans: orphans(traceOf(root)).map((s) => `${s.service}:${s.name}`) }))
  assert.ok(edge, `no complete gateway trace reaching the fan-out worker; gateway traces seen: ${JSON.stringify(seen)}`)

  assert.equal(edge.traceId, traceresponse.split('-')[1], 'traceresponse names the post\'s trace')
  const trace = traceOf(edge)
  // SHOW_TRACE=1 prints the trace, one span a line: what a newcomer would see in Jaeger.
  if (process.env['SHOW_TRACE']) console.log(trace.map((s) => `${s.service} ${s.kind} ${s.name}`).join('\n'))

  // Every span hangs, through its parents, off the gateway's server span.
  const byId = new Map(trace.map((s) => [s.spanId, s]))
  for (const span of trace) {
    let cursor: Span | undefined = span
    while (cursor?.parentSpanId) cursor = byId.get(cursor.parentSpanId)
    assert.equal(cursor?.spanId, edge.spanId, `${span.service} ${span.name} is not under the gateway span`)
  }
})
