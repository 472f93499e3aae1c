import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { backoffDelay, sleep } from '../../src/retry.ts'

describe('backoffDelay', () => {
  test('always lies within [0, min(max, initial·2^(attempt-1))]', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 600_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, initialMs, maxMs, r) => {
        const delay = backoffDelay(attempt, { initialMs, maxMs }, () => r)
        const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1))
        return Number.isInteger(delay) && delay >= 0 && delay <= ceiling
      }
    ))
  })

  test('the window doubles per attempt until it reaches the cap', () => {
    const top = (attempt: number) => backoffDelay(attempt, { initialMs: 100, maxMs: 1_000 }, () => 0.999_999)
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(top), [99, 199, 399, 799, 999, 999])
  })
})

describe('sleep', () => {
  test('when aborted, then it rejects with the abort reason', async () => {
    const controller = new AbortController()
    const pending = sleep(10_000, controller.signal)
    controller.abort(new Error('stopping'))
    await assert.rejects(pending, /stopping/)
  })
})
