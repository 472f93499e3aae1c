// Property-based fuzzing of the public API through the gateway: at least 10 000 generated
// requests (arbitraries.ts), 20 at a time. None may be answered with a 5xx, every refusal must
// be a problem document, and every process must still be ready at the end. A failure names the
// request and fast-check's seed.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { requestArbitrary } from './arbitraries.ts'
import type { Fixture } from './fixture.ts'
import { rawRequest, type RawRequest } from './raw-http.ts'
import { refusalDefects } from './send.ts'
import type { AbuseStack } from './stack.ts'
import { forgedTokens } from './tokens.ts'

export const FUZZ_BATCH = 20
export const FUZZ_RUNS = 500

const describeRequest = (r: RawRequest) => `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers ?? []).slice(0, 300)} ${JSON.stringify(Buffer.isBuffer(r.body) ? r.body.toString('base64') : r.body ?? '').slice(0, 300)}`

export interface FuzzReport { sent: number, seconds: number, statuses: Map<number, number> }

export async function fuzzGateway (stack: AbuseStack, fixture: Fixture): Promise<FuzzReport> {
  const requests = requestArbitrary(fixture, forgedTokens(fixture.alice.id, stack.signing))
  const statuses = new Map<number, number>()
  let sent = 0
  const started = Date.now()
  await fc.assert(fc.asyncProperty(fc.array(requests, { minLength: FUZZ_BATCH, maxLength: FUZZ_BATCH }), async (batch) => {
    const answers = await Promise.all(batch.map(async (request) => {
      try {
        return { request, response: await rawRequest(stack.gateway, request) }
      } catch (err) {
        return { request, error: err as Error }
      }
    }))
    sent += batch.length
    for (const answer of answers) {
      if (answer.error) throw new Error(`no answer to ${describeRequest(answer.request)}: ${answer.error.message}`)
      const { status } = answer.response
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status >= 500) throw new Error(`${status} for ${describeRequest(answer.request)}: ${answer.response.body.toString('utf8').slice(0, 300)}`)
      if (status >= 400) {
        const defects = refusalDefects(answer.request.method, answer.response)
        if (defects.length > 0) throw new Error(`${defects.join('; ')} for ${describeRequest(answer.request)}`)
      }
    }
    // No shrinking: the error already names the one request that failed, and shrinking a batch
    // that hit a 5 s timeout would rerun it hundreds of times.
  }), { numRuns: FUZZ_RUNS, endOnFailure: true })
  assert.ok(sent >= FUZZ_BATCH * FUZZ_RUNS)
  return { sent, seconds: (Date.now() - started) / 1000, statuses }
}
