// Checks the k6 scenarios with Node, for machines without k6 (the project does not depend on
// it). Each script is imported with the k6 modules replaced by small stand-ins, then:
//
//   node k6/check.mjs                  parse every script, validate its options (executors,
//                                      exec functions, thresholds and the tags they name), run
//                                      handleSummary, and test the pure helpers (Zipf, knobs,
//                                      Prometheus parsing);
//   node k6/check.mjs --live URL [--iterations N] [--env K=V]… [script…]
//                                      also run setup(), N iterations of every scenario's
//                                      function, teardown() and handleSummary against a running
//                                      stack — the stand-in http makes real requests with curl,
//                                      the stand-in k6/x/redis runs redis-cli — and fail on any
//                                      failed check.
//
// The stand-ins implement only what the scripts use, the way k6 documents it (synchronous
// http, canonical header names, response callbacks, res.json(path)); they prove the scripts'
// flows and the API's answers, not k6's scheduling, which needs k6 itself.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    live: { type: 'string' },
    iterations: { type: 'string', default: '2' },
    env: { type: 'string', multiple: true, default: [] }
  }
})
const live = args.live !== undefined
const iterations = Number(args.iterations)

// ---- the stand-in k6 runtime -------------------------------------------------------------

const samples = []
let currentScenario
const scenarioTag = () => (currentScenario ? { scenario: currentScenario } : {})
const record = (metric, value, tags) => samples.push({ metric, value: Number(value), tags: { ...scenarioTag(), ...tags } })

const canonical = (name) => name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase()).join('-')

function jsonPath (body, selector) {
  let value = JSON.parse(body)
  if (selector === undefined) return value
  for (const part of selector.split('.')) value = value?.[part]
  return value
}

function request (method, url, body, params = {}) {
  const curlArgs = ['-s', '-S', '-i', '-X', method, url, '--max-time', '30', '-w', '\n%{time_total}']
  for (const [name, value] of Object.entries(params.headers ?? {})) curlArgs.push('-H', `${name}: ${value}`)
  if (body !== null && body !== undefined) curlArgs.push('--data-binary', '@-')
  let out
  try {
    out = execFileSync('curl', curlArgs, { input: body ?? '', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  } catch (err) {
    const res = { status: 0, body: '', headers: {}, error: String(err.stderr || err.message).trim(), error_code: 1, timings: { duration: 0 } }
    record('http_req_duration', 0, { ...params.tags })
    record('http_req_failed', 1, { ...params.tags })
    return res
  }
  const timeAt = out.lastIndexOf('\n')
  const duration = Number(out.slice(timeAt + 1)) * 1000
  const raw = out.slice(0, timeAt)
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).split('\r\n')
  const status = Number(head[0].split(' ')[1])
  const headers = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    headers[canonical(line.slice(0, colon).trim())] = line.slice(colon + 1).trim()
  }
  const resBody = raw.slice(split + 4)
  const expected = params.responseCallback ? params.responseCallback.statuses.includes(status) : status >= 200 && status < 400
  const tags = { ...params.tags, status: String(status), method, expected_response: String(expected) }
  record('http_req_duration', duration, tags)
  record('http_req_failed', expected ? 0 : 1, tags)
  return { status, body: resBody, headers, error: '', error_code: 0, timings: { duration }, request: { method, url }, json: (selector) => jsonPath(resBody, selector) }
}

const http = {
  request,
  get: (url, params) => request('GET', url, null, params),
  post: (url, body, params) => request('POST', url, body, params),
  put: (url, body, params) => request('PUT', url, body, params),
  del: (url, body, params) => request('DELETE', url, body, params),
  batch: (requests) => requests.map((r) => Array.isArray(r) ? request(r[0], r[1], r[2] ?? null, r[3]) : request(r.method, r.url, r.body ?? null, r.params)),
  expectedStatuses: (...statuses) => {
    for (const s of statuses) assert.ok(Number.isInteger(s), 'expectedStatuses takes status codes (or {min,max}, unused here)')
    return { statuses }
  }
}

function check (value, predicates, tags = {}) {
  let all = true
  for (const [name, predicate] of Object.entries(predicates)) {
    let ok
    try { ok = Boolean(predicate(value)) } catch (err) { ok = false; console.error(`  check "${name}" threw: ${err.message}`) }
    record('checks', ok ? 1 : 0, { ...tags, check: name })
    all &&= ok
  }
  return all
}

const sleep = (s) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, s * 1000)

const metricTypes = new Map()
function metricClass (type) {
  return class {
    constructor (name, isTime = false) {
      assert.match(name, /^[A-Za-z_][\w]*$/, `metric name ${name}`)
      metricTypes.set(name, { type, contains: isTime ? 'time' : 'default' })
      this.name = name
    }

    add (value, tags = {}) {
      assert.ok(typeof value === 'number' || typeof value === 'boolean', `${this.name}.add(${value}): a number or boolean`)
      record(this.name, value, tags)
    }
  }
}

class RedisClient {
  constructor (url) { this.url = url }
  async del (...keys) {
    assert.ok(keys.every((k) => typeof k === 'string'), 'del takes keys as separate string arguments')
    if (!live) return 0
    return Number(execFileSync('redis-cli', ['-u', this.url, 'DEL', ...keys], { encoding: 'utf8' }).trim())
  }
}

globalThis.__k6stubs = {
  k6: { check, sleep, fail: (msg) => { throw new Error(msg) }, group: (_name, fn) => fn() },
  'k6/http': http,
  'k6/metrics': { Counter: metricClass('counter'), Trend: metricClass('trend'), Rate: metricClass('rate'), Gauge: metricClass('gauge') },
  'k6/data': { SharedArray: class { constructor (_name, fill) { return fill() } } },
  'k6/execution': { scenario: { name: '' }, vu: { idInTest: 1 }, instance: { currentTestRunDuration: 0 } },
  'k6/x/redis': { Client: RedisClient }
}
const STUB_SOURCE = {
  k6: 'const s = globalThis.__k6stubs.k6; export const check = s.check; export const sleep = s.sleep; export const fail = s.fail; export const group = s.group; export default s',
  'k6/http': 'export default globalThis.__k6stubs["k6/http"]',
  'k6/metrics': 'const m = globalThis.__k6stubs["k6/metrics"]; export const Counter = m.Counter; export const Trend = m.Trend; export const Rate = m.Rate; export const Gauge = m.Gauge',
  'k6/data': 'export const SharedArray = globalThis.__k6stubs["k6/data"].SharedArray',
  'k6/execution': 'export default globalThis.__k6stubs["k6/execution"]',
  'k6/x/redis': 'export default globalThis.__k6stubs["k6/x/redis"]'
}
registerHooks({
  resolve (specifier, context, next) {
    if (specifier in STUB_SOURCE) return { url: `k6stub:${specifier}`, shortCircuit: true }
    if (/^k6(\/|$)/.test(specifier) || /^https?:/.test(specifier)) throw new Error(`${specifier}: not a module the scenarios may use (no stand-in; remote imports need the network)`)
    return next(specifier, context)
  },
  load (url, context, next) {
    if (url.startsWith('k6stub:')) return { format: 'module', source: STUB_SOURCE[url.slice('k6stub:'.length)], shortCircuit: true }
    return next(url, context)
  }
})

globalThis.__VU = 1
globalThis.__ITER = 0
globalThis.__ENV = {}
for (const pair of args.env) {
  const eq = pair.indexOf('=')
  globalThis.__ENV[pair.slice(0, eq)] = pair.slice(eq + 1)
}
if (live) {
  // Small sizes by default: registering a user costs two scrypt hashes.
  const small = { BASE_URL: args.live, LINKS: '20', USERS: '2', AUTHORS: '3', READERS: '3', FOLLOWS: '2', POSTS: '2', FOLLOWERS: '3', DURATION: '20s' }
  for (const [k, v] of Object.entries(small)) globalThis.__ENV[k] ??= v
}

// ---- summary data as k6 builds it, from the recorded samples -----------------------------

function percentile (sorted, p) {
  if (sorted.length === 0) return 0
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (rank - lo)
}

function aggregate (type, values, durationS) {
  if (type === 'trend') {
    const sorted = [...values].sort((a, b) => a - b)
    const sum = sorted.reduce((a, b) => a + b, 0)
    return { avg: sum / sorted.length, min: sorted[0], med: percentile(sorted, 50), 'p(90)': percentile(sorted, 90), 'p(95)': percentile(sorted, 95), 'p(99)': percentile(sorted, 99), max: sorted.at(-1), count: sorted.length }
  }
  if (type === 'rate') {
    const passes = values.filter((v) => v !== 0).length
    return { rate: passes / values.length, passes, fails: values.length - passes }
  }
  if (type === 'counter') {
    const count = values.reduce((a, b) => a + b, 0)
    return { count, rate: count / durationS }
  }
  return { value: values.at(-1), min: Math.min(...values), max: Math.max(...values) }
}

const BUILT_IN_TYPES = { http_req_duration: ['trend', 'time'], http_req_failed: ['rate', 'default'], checks: ['rate', 'default'], dropped_iterations: ['counter', 'default'], iterations: ['counter', 'default'], http_reqs: ['counter', 'default'] }

function parseThresholdKey (key) {
  const match = key.match(/^([A-Za-z_][\w]*)(?:\{([^}]*)\})?$/)
  assert.ok(match, `threshold key ${key}`)
  const tags = {}
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const [k, v] = pair.split(':')
    assert.ok(k && v !== undefined, `threshold key ${key}: tags are name:value pairs`)
    tags[k.trim()] = v.trim()
  }
  return { metric: match[1], tags }
}

const THRESHOLD = /^(avg|min|max|med|count|rate|value|p\(\d+(?:\.\d+)?\))\s*(<|<=|>|>=|==|===|!=)\s*(-?\d+(?:\.\d+)?)$/

function evaluate (expr, values) {
  const [, agg, op, limit] = expr.match(THRESHOLD)
  const v = values[agg]
  return { '<': v < limit, '<=': v <= limit, '>': v > limit, '>=': v >= limit, '==': v === Number(limit), '===': v === Number(limit), '!=': v !== Number(limit) }[op]
}

function summaryData (thresholds, durationS) {
  const metrics = {}
  const typeOf = (name) => BUILT_IN_TYPES[name] ? { type: BUILT_IN_TYPES[name][0], contains: BUILT_IN_TYPES[name][1] } : metricTypes.get(name)
  const names = new Set(samples.map((s) => s.metric))
  names.add('http_reqs')
  for (const name of names) {
    const values = name === 'http_reqs' ? samples.filter((s) => s.metric === 'http_req_duration').map(() => 1) : samples.filter((s) => s.metric === name).map((s) => s.value)
    if (values.length > 0) metrics[name] = { ...typeOf(name), values: aggregate(typeOf(name).type, values, durationS) }
  }
  for (const [key, exprs] of Object.entries(thresholds ?? {})) {
    const { metric, tags } = parseThresholdKey(key)
    const values = samples.filter((s) => s.metric === metric && Object.entries(tags).every(([k, v]) => s.tags[k] === v)).map((s) => s.value)
    if (values.length === 0) continue
    const type = typeOf(metric)
    metrics[key] = { ...type, values: aggregate(type.type, values, durationS), thresholds: {} }
    for (const e of exprs) {
      const expr = typeof e === 'string' ? e : e.threshold
      metrics[key].thresholds[expr] = { ok: evaluate(expr, metrics[key].values) }
    }
  }
  return { metrics, root_group: { name: '', path: '', groups: [], checks: [] }, options: {}, state: { testRunDurationMs: durationS * 1000, isStdOutTTY: false, isStdErrTTY: false } }
}

// ---- checks ---------------------------------------------------------------------------------

const failures = []
function step (name, fn) {
  return Promise.resolve().then(fn).then(
    () => console.log(`  ✓ ${name}`),
    (err) => { failures.push(`${name}: ${err.message}`); console.log(`  ✗ ${name}\n      ${err.message.split('\n').join('\n      ')}`) })
}

async function checkHelpers () {
  console.log('helpers')
  const { zipfSampler, zipfProbability, zipfHeadShare } = await import('./lib/zipf.js')
  const { seconds, number } = await import('./lib/env.js')
  const { parsePrometheus } = await import('./lib/service-metrics.js')
  // A seeded generator (mulberry32): the distribution checks are exact repeats, never flaky.
  const seeded = (seed) => () => {
    seed = (seed + 0x6D2B79F5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const histogram = (pick, n, draws) => {
    const counts = new Array(n).fill(0)
    for (let i = 0; i < draws; i++) counts[pick()]++
    return counts
  }
  await step('zipf: exponent 0 is uniform', () => {
    const counts = histogram(zipfSampler(10, 0, seeded(1)), 10, 100_000)
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c} is not within 5% of 10000`)
  })
  await step('zipf: frequencies follow 1/k^s', () => {
    for (const s of [0.8, 1, 1.5]) {
      const counts = histogram(zipfSampler(100, s, seeded(7)), 100, 200_000)
      for (const i of [0, 1, 4, 9]) {
        const expected = zipfProbability(100, s, i) * 200_000
        assert.ok(Math.abs(counts[i] - expected) < 0.05 * expected + 50, `s=${s} rank ${i + 1}: ${counts[i]} picks, expected ≈ ${expected.toFixed(0)}`)
      }
      assert.ok(counts[0] > counts[9] && counts[9] > counts[99], `s=${s}: popularity must fall with rank`)
    }
  })
  await step('zipf: the ends of [0,1) map to the first and last index', () => {
    assert.equal(zipfSampler(50, 1, () => 0)(), 0)
    assert.equal(zipfSampler(50, 1, () => 0.9999999999)(), 49)
    assert.equal(zipfSampler(1, 1, () => 0.5)(), 0)
  })
  await step('zipf: head share and bad arguments', () => {
    assert.ok(Math.abs(zipfHeadShare(1000, 0, 10) - 0.01) < 1e-12)
    assert.ok(zipfHeadShare(1000, 1, 10) > 0.35 && zipfHeadShare(1000, 1, 10) < 0.4)
    assert.throws(() => zipfSampler(0, 1), /n must be a positive integer/)
    assert.throws(() => zipfSampler(10, -1), /exponent must be >= 0/)
  })
  await step('knobs: durations and numbers', () => {
    assert.equal(seconds('90s'), 90)
    assert.equal(seconds('2m'), 120)
    assert.equal(seconds('1m30s'), 90)
    assert.equal(seconds('500ms'), 0.5)
    assert.equal(seconds('1h'), 3600)
    assert.throws(() => seconds('ten'), /not a duration/)
    globalThis.__ENV.CHECK_NUMBER = 'abc'
    assert.throws(() => number('CHECK_NUMBER', 1), /must be a number/)
    delete globalThis.__ENV.CHECK_NUMBER
  })
  await step('service metrics: Prometheus counters, gauges and histogram sums', () => {
    const body = '# HELP x\nshortener_db_reads_total{otel_scope_name="a"} 3\nshortener_db_reads_total{b="c"} 4\n' +
      'timeline_fanout_consumer_lag{topic="post.created"} 2\ntimeline_fanout_consumer_lag{topic="user.followed"} 5\n' +
      'timeline_fanout_size_sum{x="y"} 120\ntimeline_fanout_size_count 3\nshortener_db_reads_other 9\n'
    assert.deepEqual(parsePrometheus(body, ['shortener_db_reads', 'timeline_fanout_consumer_lag', 'timeline_fanout_size_sum', 'missing']),
      { shortener_db_reads: 7, timeline_fanout_consumer_lag: 7, timeline_fanout_size_sum: 120, missing: 0 })
  })
}

function checkOptions (file, mod, source) {
  const { options } = mod
  assert.ok(options && typeof options === 'object', 'exports options')
  const { seconds } = globalThis.__k6helpers
  const scenarios = Object.entries(options.scenarios ?? {})
  assert.ok(scenarios.length > 0, 'options.scenarios is not empty')
  for (const [name, s] of scenarios) {
    assert.equal(s.executor, 'constant-arrival-rate', `${name}: executor`)
    assert.ok(s.rate > 0, `${name}: rate > 0`)
    for (const key of ['timeUnit', 'duration', ...(s.startTime ? ['startTime'] : [])]) seconds(s[key])
    assert.ok(seconds(s.duration) > 0, `${name}: duration > 0`)
    assert.ok(Number.isInteger(s.preAllocatedVUs) && s.preAllocatedVUs >= 1, `${name}: preAllocatedVUs`)
    assert.ok(Number.isInteger(s.maxVUs) && s.maxVUs >= s.preAllocatedVUs, `${name}: maxVUs >= preAllocatedVUs`)
    assert.equal(typeof mod[s.exec], 'function', `${name}: exec ${s.exec} is an exported function`)
    for (const key of Object.keys(s)) assert.ok(['executor', 'exec', 'rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs', 'startTime', 'tags', 'env', 'gracefulStop'].includes(key), `${name}: ${key} is a constant-arrival-rate option`)
  }
  const defined = new Set([...source.matchAll(/new (?:Counter|Trend|Rate|Gauge)\(\s*[`'"]([^`'"]+)/g)].map((m) => m[1]))
  for (const [key, exprs] of Object.entries(options.thresholds ?? {})) {
    const { metric, tags } = parseThresholdKey(key)
    assert.ok(metric in BUILT_IN_TYPES || defined.has(metric), `${key}: ${metric} is a k6 metric or one this script defines`)
    for (const [tag, value] of Object.entries(tags)) {
      if (tag === 'scenario') assert.ok(options.scenarios[value], `${key}: no scenario ${value}`)
      else assert.ok(source.includes(`'${value}'`), `${key}: nothing in ${file} tags ${tag} '${value}'`)
    }
    assert.ok(Array.isArray(exprs) && exprs.length > 0, `${key}: a list of expressions`)
    for (const e of exprs) assert.match(typeof e === 'string' ? e : e.threshold, THRESHOLD, `${key}: threshold expression`)
  }
  for (const fn of ['handleSummary']) assert.equal(typeof mod[fn], 'function', `exports ${fn}`)
  for (const fn of ['setup', 'teardown']) assert.ok(mod[fn] === undefined || typeof mod[fn] === 'function', `${fn} is a function`)
}

function checkSummary (file, mod, durationS) {
  const out = mod.handleSummary(summaryData(mod.options.thresholds, durationS))
  assert.equal(typeof out.stdout, 'string', 'handleSummary returns stdout text')
  const jsonFiles = Object.keys(out).filter((k) => k.endsWith('.json'))
  assert.equal(jsonFiles.length, 1, 'handleSummary writes one JSON file')
  assert.equal(JSON.parse(out[jsonFiles[0]]).scenario, basename(file, '.js'))
  return out.stdout
}

async function runLive (file, mod) {
  samples.length = 0
  const started = Date.now()
  currentScenario = undefined
  const data = mod.setup ? await mod.setup() : undefined
  const copy = () => JSON.parse(JSON.stringify(data ?? null)) // k6 hands each VU its own copy
  // Round robin over the scenarios, as they overlap in a real run (a flush between redirects).
  for (let i = 0; i < iterations; i++) {
    globalThis.__ITER = i
    for (const [name, s] of Object.entries(mod.options.scenarios)) {
      currentScenario = name
      await mod[s.exec](copy())
    }
  }
  currentScenario = undefined
  if (mod.teardown) await mod.teardown(copy())
  const failed = samples.filter((s) => s.metric === 'checks' && s.value === 0)
  const byCheck = Object.groupBy(failed, (s) => `${s.tags.scenario ?? 'setup'}: ${s.tags.check}`)
  const requests = Object.groupBy(samples.filter((s) => s.metric === 'http_req_duration'), (s) => `${s.tags.endpoint ?? '?'} ${s.tags.status}`)
  console.log(`      requests: ${Object.entries(requests).map(([k, v]) => `${k}×${v.length}`).join(', ')}`)
  console.log(checkSummary(file, mod, (Date.now() - started) / 1000).split('\n').map((l) => `      ${l}`).join('\n'))
  assert.deepEqual(Object.keys(byCheck), [], `failed checks: ${Object.entries(byCheck).map(([k, v]) => `${k} ×${v.length}`).join('; ')}`)
}

await checkHelpers()
globalThis.__k6helpers = await import('./lib/env.js')
const scripts = (positionals.length > 0 ? positionals.map((p) => basename(p)) : readdirSync(here).filter((f) => f.endsWith('.js')).sort())
for (const file of scripts) {
  console.log(file)
  const path = join(here, file)
  const source = [path, ...readdirSync(join(here, 'lib')).map((f) => join(here, 'lib', f))].map((p) => readFileSync(p, 'utf8')).join('\n')
  let mod
  await step('imports as an ES module with the k6 modules', async () => { mod = await import(`${pathToFileURL(path).href}?check`) })
  if (!mod) continue
  await step('options: constant-arrival-rate scenarios, exec functions, thresholds on tags it sets', () => checkOptions(file, mod, source))
  await step('handleSummary: text on stdout, the data as JSON, with nothing or everything observed', () => {
    samples.length = 0
    checkSummary(file, mod, 1)
    for (const key of Object.keys(mod.options.thresholds ?? {})) {
      const { metric, tags } = parseThresholdKey(key)
      record(metric, 1, tags)
    }
    for (const name of metricTypes.keys()) if (source.includes(name.replace(/^service_/, ''))) record(name, 1, {})
    checkSummary(file, mod, 1)
    samples.length = 0
  })
  if (live) await step(`live against ${args.live}: setup, ${iterations} iterations of each scenario, teardown — every check passes`, () => runLive(file, mod))
}

if (failures.length > 0) {
  console.log(`\n${failures.length} failed:\n  ${failures.join('\n  ')}`)
  process.exit(1)
}
console.log('\nall passed')
