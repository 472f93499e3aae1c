// Property-based fuzzing of the public API through the gateway: at least 10 000 generated
// requests (arbitraries.ts) against the whole system as real processes. None may be answered
// with a 5xx, every refusal must be a problem document, and every process must still be ready
// at the end. A failure prints fast-check's seed and the shrunk request that broke it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { requestArbitrary } from './arbitraries.ts'
import { createFixture } from './fixture.ts'
import { rawRequest, type RawRequest } from './raw-http.ts'
import { refusalDefects } from './send.ts'
import { startAbuseStack } from './stack.ts'
import { forgedTokens } from './tokens.ts'

const BATCH = 20
const RUNS = 500

const stack = await startAbuseStack()
const fixture = await createFixture(stack)
const requests = requestArbitrary(fixture, forgedTokens(fixture.alice.id, stack.signing))

const describe = (r: RawRequest) => `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers ?? []).slice(0, 300)} ${JSON.stringify(Buffer.isBuffer(r.body) ? r.body.toString('base64') : r.body ?? '').slice(0, 300)}`

// About a minute on a quiet 2-core machine; the default 2-minute limit of `pnpm test` is too
// tight when the suite runs four files at once.
test(`${BATCH * RUNS} generated requests through the gateway: no 5xx, every refusal a problem document, every service still ready`, { timeout: 6 * 60_000 }, async () => {
  const statuses = new Map<number, number>()
  let sent = 0
  const started = Date.now()
  await fc.assert(fc.asyncProperty(fc.array(requests, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
    const answers = await Promise.all(batch.map(async (request) => {
      try {
        return { request, response: await rawRequest(stack.gateway, request) }
      } catch (err) {
        return { request, error: err as Error }
      }
    }))
    sent += batch.length
    for (const answer of answers) {
      if (answer.error) throw new Error(`no answer to ${describe(answer.request)}: ${answer.error.message}`)
      const { status } = answer.response
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status >= 500) throw new Error(`${status} for ${describe(answer.request)}: ${answer.response.body.toString('utf8').slice(0, 300)}`)
      if (status >= 400) {
        const defects = refusalDefects(answer.request.method, answer.response)
        if (defects.length > 0) throw new Error(`${defects.join('; ')} for ${describe(answer.request)}`)
      }
    }
    // No shrinking: the error already names the one request that failed, and shrinking a batch
    // that hit a 5 s timeout would rerun it hundreds of times.
  }), { numRuns: RUNS, endOnFailure: true })
  const seconds = (Date.now() - started) / 1000
  console.log(`fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), answered ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  assert.ok(sent >= BATCH * RUNS)
  // Some requests must get through, or the fuzzer only ever knocked at the door.
  assert.ok([...statuses].some(([status, n]) => status < 300 && n >= 50), 'fewer than 50 successful answers of any kind')

  for (const [name, url] of Object.entries(stack.urls)) {
    assert.equal((await fetch(`${url}/health/ready`)).status, 200, `${name} is not ready after the fuzzing`)
  }
})
