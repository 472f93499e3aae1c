// The end-of-test report every scenario prints: thresholds first (what passed, what failed),
// then latency and errors per endpoint tag, then the scenario's own metrics and notes (the
// services' counters, derived figures). The same data goes to a JSON file for comparing runs:
// k6/results/<scenario>.json unless SUMMARY_DIR says elsewhere.
//
// Written here rather than taken from jslib.k6.io's textSummary so that a run needs no network
// and the per-endpoint view (the tag every scenario sets) comes first.
import { text } from './env.js'

const BUILT_IN = /^(http_|iteration|vus|data_|checks|dropped_iterations|group_duration|setup|teardown)/

function fmt (value, contains) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-'
  if (contains === 'time') return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(value < 10 ? 2 : 1)}ms`
  if (contains === 'data') return `${(value / 1024).toFixed(0)} kB`
  return Number.isInteger(value) ? String(value) : value.toFixed(3)
}

function pad (s, n) {
  s = String(s)
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

function describe (metric) {
  const v = metric.values || {}
  switch (metric.type) {
    case 'trend':
      return ['med', 'p(90)', 'p(99)', 'max'].map((k) => `${k}=${fmt(v[k], metric.contains)}`).join(' ') + (v.count !== undefined ? ` n=${v.count}` : '')
    case 'rate':
      return `${(100 * (v.rate ?? 0)).toFixed(2)}% (${v.passes ?? 0} of ${(v.passes ?? 0) + (v.fails ?? 0)})`
    case 'counter':
      return `${fmt(v.count, metric.contains)} (${(v.rate ?? 0).toFixed(1)}/s)`
    case 'gauge':
      return `last=${fmt(v.value, metric.contains)} min=${fmt(v.min, metric.contains)} max=${fmt(v.max, metric.contains)}`
    default:
      return JSON.stringify(v)
  }
}

/** The value of one metric's statistic, or undefined: for scenario notes. */
export function stat (data, name, key) {
  const metric = data.metrics[name]
  return metric && metric.values ? metric.values[key] : undefined
}

/**
 * handleSummary's return value: a text report on stdout and the full data, with the knobs and
 * notes, as JSON. `notes` are lines the scenario derives (e.g. "database reads per flush: 12").
 */
export function report (scenario, data, { knobs = {}, notes = [] } = {}) {
  const lines = []
  const metrics = data.metrics || {}
  const names = Object.keys(metrics).sort()
  const durationS = ((data.state && data.state.testRunDurationMs) || 0) / 1000

  lines.push('', `■ ${scenario} — ${durationS.toFixed(0)} s`)
  const knobLine = Object.entries(knobs).map(([k, v]) => `${k}=${v}`).join(' ')
  if (knobLine) lines.push(`  knobs: ${knobLine}`)

  const verdicts = []
  for (const name of names) {
    for (const [expr, result] of Object.entries(metrics[name].thresholds || {})) {
      verdicts.push(`  ${result.ok ? '✓' : '✗'} ${name} ${expr}`)
    }
  }
  if (verdicts.length > 0) {
    const failed = verdicts.filter((v) => v.startsWith('  ✗')).length
    lines.push('', `  thresholds: ${verdicts.length - failed} passed, ${failed} failed`, ...verdicts)
  }

  const tagged = names.filter((n) => /^http_req_(duration|failed)\{/.test(n))
  if (tagged.length > 0) {
    lines.push('', '  per endpoint')
    for (const name of tagged) lines.push(`  ${pad(name, 58)} ${describe(metrics[name])}`)
  }

  const own = names.filter((n) => !BUILT_IN.test(n) && !n.includes('{'))
  const general = ['http_reqs', 'http_req_duration', 'http_req_failed', 'checks', 'iterations', 'dropped_iterations', 'vus_max']
  lines.push('', '  overall')
  for (const name of general.filter((n) => metrics[n])) lines.push(`  ${pad(name, 58)} ${describe(metrics[name])}`)
  if (own.length > 0) {
    lines.push('', '  scenario metrics')
    for (const name of own) lines.push(`  ${pad(name, 58)} ${describe(metrics[name])}`)
  }
  if (notes.length > 0) lines.push('', ...notes.map((n) => `  ${n}`))

  const dir = text('SUMMARY_DIR', 'k6/results').replace(/\/+$/, '')
  const file = `${dir}/${scenario}.json`
  lines.push('', `  full summary: ${file}`, '')
  return {
    stdout: lines.join('\n'),
    [file]: JSON.stringify({ scenario, knobs, notes, data }, null, 2)
  }
}
