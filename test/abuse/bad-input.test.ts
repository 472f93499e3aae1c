// Bad input against the whole system through the gateway, on one stack: first the corpus
// (corpus.ts), where every case is a 4xx problem document and afterwards every table of every
// service database and every Redis key is exactly as it was; then 10 000 fuzzed requests
// (fuzz.ts) with no 5xx; then every process must still be ready.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../harness.ts'
import { corpus } from './corpus.ts'
import { createFixture } from './fixture.ts'
import { FUZZ_BATCH, FUZZ_RUNS, fuzzGateway } from './fuzz.ts'
import { forEachConcurrently, refusalDefects, send } from './send.ts'
import { startAbuseStack } from './stack.ts'
import { rowCounts, settledState } from './state.ts'
import { forgedTokens } from './tokens.ts'

const stack = await startAbuseStack()
const fixture = await createFixture(stack)
const cases = corpus(fixture, forgedTokens(fixture.alice.id, stack.signing))

test('the corpus has a case for every public operation the gateway documents', async () => {
  const doc = await (await fetch(`${stack.gateway}/docs/json`)).json() as { paths: Record<string, Record<string, unknown>> }
  const missing: string[] = []
  for (const [template, operations] of Object.entries(doc.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`)
    for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
      if (!cases.some((k) => k.method === method && pattern.test(k.path.split('?')[0]!))) missing.push(`${method} ${template}`)
    }
  }
  assert.ok(Object.keys(doc.paths).length >= 12, `the merged document lists ${Object.keys(doc.paths).length} paths`)
  assert.deepEqual(missing, [])
})

test(`each of the ${cases.length} malformed or hostile requests is a 4xx problem and changes nothing`, async () => {
  assert.ok(cases.length >= 300, `${cases.length} cases`)
  assert.equal(new Set(cases.map((k) => k.name)).size, cases.length, 'case names are unique')
  const before = await settledState(stack)

  const failures: string[] = []
  const statuses = new Map<number, number>()
  await forEachConcurrently(cases, 8, async (abuse) => {
    try {
      const response = await send(fixture, abuse)
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      const defects = refusalDefects(abuse.method, response, abuse.status)
      if (defects.length > 0) failures.push(`${abuse.name}: ${defects.join('; ')} — ${response.body.toString('utf8').slice(0, 200)}`)
    } catch (err) {
      failures.push(`${abuse.name}: ${(err as Error).message}`)
    }
  })
  console.log(`bad-input corpus: ${cases.length} cases, answered ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  assert.deepEqual(failures, [])

  const after = await settledState(stack)
  console.log(`rows before and after: ${JSON.stringify(rowCounts(after))}; Redis keys: ${Object.keys(after.redis).sort().map((k) => k.split(':')[0]).join(' ')}`)
  assert.deepEqual(rowCounts(after), rowCounts(before))
  assert.deepEqual(after, before, 'a table\'s rows or a Redis key changed')
})

// About a minute on a quiet 2-core machine; the 2-minute default of `pnpm test` is too tight
// when four files run at once.
test(`${FUZZ_BATCH * FUZZ_RUNS} generated requests: no 5xx, every refusal a problem document`, { timeout: 6 * 60_000 }, async () => {
  const { sent, seconds, statuses } = await fuzzGateway(stack, fixture)
  console.log(`fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), answered ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  // Some requests must get through, or the fuzzer only ever knocked at the door.
  assert.ok([...statuses].some(([status, n]) => status < 300 && n >= 50), 'fewer than 50 successful answers of any kind')
})

test('every service is still ready afterwards', async () => {
  // A probe of a dependency may miss its 1 s deadline on a loaded machine: ready means it answers 200 again.
  for (const url of Object.values(stack.urls)) await eventually(async () => (await fetch(`${url}/health/ready`)).status, (status) => status === 200)
})
