// The k6 scenarios are for users who have k6; the project does not depend on it. What can be
// checked without it is checked here: every script parses with the k6 modules stood in, its
// options (executors, exec functions, thresholds on tags it sets) are valid, handleSummary
// runs, and the pure helpers (Zipf, knobs, Prometheus parsing) compute what they claim.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

test('every k6 scenario parses and its options, summary and helpers check out', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [new URL('../k6/check.mjs', import.meta.url).pathname])
  assert.match(stdout, /^all passed$/m, stdout)
  assert.doesNotMatch(stdout, /✗/, stdout)
})
