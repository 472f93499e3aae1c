// What each fault case prints and asserts: of what was sent, how much arrived, how much was
// lost (must be 0) and how much arrived more than once (must be 0).
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'

export interface Tally {
  sent: number
  /** Sent items that arrived at least once. */
  arrived: number
  lost: number
  /** Arrivals beyond the first of an item. */
  duplicated: number
  /** Arrivals of items nobody sent (a write that was refused yet happened). */
  unexpected: number
  /** A few of the lost, duplicated and unexpected ids, for the failure message. */
  examples: { lost: string[], duplicated: string[], unexpected: string[] }
}

/** Compares the ids sent with the ids that arrived (with repeats, as found). */
export function tally (sent: Iterable<string>, arrivals: Iterable<string>): Tally {
  const expected = new Set(sent)
  const seen = new Map<string, number>()
  for (const id of arrivals) seen.set(id, (seen.get(id) ?? 0) + 1)
  const lost = [...expected].filter((id) => !seen.has(id))
  const duplicated = [...seen].filter(([id, n]) => expected.has(id) && n > 1)
  const unexpected = [...seen.keys()].filter((id) => !expected.has(id))
  return {
    sent: expected.size,
    arrived: expected.size - lost.length,
    lost: lost.length,
    duplicated: duplicated.reduce((sum, [, n]) => sum + n - 1, 0),
    unexpected: unexpected.length,
    examples: { lost: lost.slice(0, 5), duplicated: duplicated.slice(0, 5).map(([id]) => id), unexpected: unexpected.slice(0, 5) }
  }
}

/** A tally from counts, where items have no identity (clicks, requests). */
export function countTally (sent: number, arrived: number): Tally {
  return {
    sent,
    arrived: Math.min(sent, arrived),
    lost: Math.max(0, sent - arrived),
    duplicated: Math.max(0, arrived - sent),
    unexpected: 0,
    examples: { lost: [], duplicated: [], unexpected: [] }
  }
}

export function formatTally (what: string, t: Tally, note = ''): string {
  return `${what}: sent ${t.sent}, arrived ${t.arrived}, lost ${t.lost}, duplicated ${t.duplicated}` +
    (t.unexpected > 0 ? `, unexpected ${t.unexpected}` : '') + (note ? ` (${note})` : '')
}

/** Prints the line (test diagnostics and stdout, so a CI log shows it) and asserts lost = duplicated = unexpected = 0. */
export function expectExactlyOnce (t: TestContext, what: string, result: Tally, note = ''): void {
  const line = formatTally(what, result, note)
  t.diagnostic(line)
  process.stdout.write(`[fault] ${t.name} · ${line}\n`)
  assert.equal(result.lost, 0, `${what}: lost ${result.lost}, e.g. ${result.examples.lost.join(', ')}`)
  assert.equal(result.duplicated, 0, `${what}: duplicated ${result.duplicated}, e.g. ${result.examples.duplicated.join(', ')}`)
  assert.equal(result.unexpected, 0, `${what}: ${result.unexpected} arrived that were never accepted, e.g. ${result.examples.unexpected.join(', ')}`)
}

/** Marks the phases of a case with the time since it began, in the test output and on stdout. */
export function phaseClock (t: TestContext): (what: string) => void {
  const started = Date.now()
  return (what) => {
    const line = `+${((Date.now() - started) / 1000).toFixed(1)} s ${what}`
    t.diagnostic(line)
    process.stdout.write(`[fault] ${t.name} · ${line}\n`)
  }
}
