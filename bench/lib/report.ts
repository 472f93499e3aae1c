// The one table `pnpm bench` prints, and the targets (issues #9 and #17) checked against it.
import type { FanoutResult } from '../scenarios/fanout.ts'
import type { LoadResult } from './load.ts'

export interface Report {
  at: string
  machine: { cores: number, cpu: string, memoryGb: number, node: string }
  settings: { durationSeconds: number, warmupSeconds: number, runs: number, connections: number, links: number, followers: number }
  redirectMax: Array<LoadResult & { ratio: number }>
  fixedRate: number
  redirectFixed: LoadResult[]
  shorten: LoadResult
  timeline: LoadResult
  fanout: FanoutResult
  rss: Array<{ name: string, mb: number }>
  targets?: Array<{ target: string, value: string, met: boolean }>
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const cpu = (x: LoadResult) => x.cpu.map((c) => `${c.name} ${int(c.us)}`).join(' + ')
const ms = (n: number) => n < 10 ? n.toFixed(2) : n.toFixed(1)

function table (headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The timeline's CPU per home read with 10 celebrities when issue #17 was filed (µs); the target is half. */
export const TIMELINE_READ_BEFORE_US = 1_462

const cpuOf = (x: LoadResult, name: string) => x.cpu.find((c) => c.name === name)?.us ?? NaN

/** Shortener CPU per redirect with enrichment minus without (rows 2 and 6 of the redirect table). */
function enrichmentCost (r: Report): string {
  const on = cpuOf(r.redirectMax[1]!, 'shortener')
  const off = cpuOf(r.redirectMax[5]!, 'shortener')
  return `${(on - off).toFixed(0)} µs (${int(on)} vs ${int(off)} µs)`
}
const times = (a: number, b: number) => `${(a / b).toFixed(2)} × (${int(a)} vs ${int(b)} µs)`

export function checkTargets (r: Report): Array<{ target: string, value: string, met: boolean }> {
  const [baseline, direct, proxy, gateway] = r.redirectMax
  const baselineP99 = r.redirectFixed[0]!.p99
  const gatewayP99 = r.redirectFixed[3]!.p99
  const zaddShare = r.fanout.insertsPerSecond / r.fanout.zaddPerSecond
  const services = r.rss.filter((p) => !p.name.includes('(bench)'))
  const heaviest = services.reduce((a, b) => (b.mb > a.mb ? b : a))
  const gatewayRedirect = cpuOf(gateway!, 'gateway')
  const proxyRedirect = cpuOf(proxy!, 'proxy')
  const shortenerRedirect = cpuOf(direct!, 'shortener')
  const baselineRedirect = cpuOf(baseline!, 'baseline')
  const gatewayShorten = cpuOf(r.shorten, 'gateway')
  const gatewayTimeline = cpuOf(r.timeline, 'gateway')
  const timelineRead = cpuOf(r.timeline, 'timeline')
  const all = [...r.redirectMax, ...r.redirectFixed, r.shorten, r.timeline]
  return [
    { target: 'gateway CPU per cached redirect ≤ 1.5 × the minimal proxy\'s', value: times(gatewayRedirect, proxyRedirect), met: gatewayRedirect <= 1.5 * proxyRedirect },
    { target: 'shortener CPU per cached redirect ≤ 1.5 × the baseline\'s', value: times(shortenerRedirect, baselineRedirect), met: shortenerRedirect <= 1.5 * baselineRedirect },
    { target: 'gateway CPU per POST /api/v1/urls ≤ 1.5 × its redirect', value: times(gatewayShorten, gatewayRedirect), met: gatewayShorten <= 1.5 * gatewayRedirect },
    { target: 'gateway CPU per GET /api/v1/timeline ≤ 1.5 × its redirect', value: times(gatewayTimeline, gatewayRedirect), met: gatewayTimeline <= 1.5 * gatewayRedirect },
    { target: `timeline CPU per home read ≤ half of ${int(TIMELINE_READ_BEFORE_US)} µs`, value: `${int(timelineRead)} µs`, met: timelineRead <= TIMELINE_READ_BEFORE_US / 2 },
    { target: `fan-out to ${int(r.fanout.followers)}: worker push < 100 ms`, value: `${int(r.fanout.pushMs)} ms`, met: r.fanout.pushMs < 100 },
    { target: 'fan-out inserts/s ≥ 0.5 × redis-benchmark pipelined ZADD', value: zaddShare.toFixed(2), met: zaddShare >= 0.5 },
    { target: 'every service\'s peak RSS < 120 MB', value: `max ${heaviest.mb.toFixed(0)} MB (${heaviest.name})`, met: heaviest.mb < 120 },
    { target: 'shortener direct ≥ 0.80 × baseline redirect throughput', value: direct!.ratio.toFixed(2), met: direct!.ratio >= 0.8 },
    { target: 'gateway ≥ 0.45 × baseline redirect throughput', value: gateway!.ratio.toFixed(2), met: gateway!.ratio >= 0.45 },
    { target: `gateway p99 at ${int(r.fixedRate)} req/s ≤ 3 × baseline p99`, value: `${(gatewayP99 / baselineP99).toFixed(1)} × (${ms(gatewayP99)} vs ${ms(baselineP99)} ms)`, met: gatewayP99 <= 3 * baselineP99 },
    { target: 'no failed requests in any scenario', value: String(all.reduce((s, x) => s + x.failures, 0)), met: all.every((x) => x.failures === 0) }
  ]
}

export function printReport (r: Report): void {
  r.targets = checkTargets(r)
  const s = r.settings
  const out = [
    `Shortfeed bench — ${r.at} — ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGb} GB, Node ${r.machine.node}`,
    `every row: median of ${s.runs} run(s) of ${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up; ${s.connections} connections unless said; load generator on the same machine`,
    '',
    `Redirect, cache hit (${s.links} codes round-robin) — maximum throughput`,
    table(['target', 'req/s', 'p50 ms', 'p99 ms', '× baseline', 'failures', 'CPU µs/request'],
      r.redirectMax.map((x) => [x.name, int(x.rps), ms(x.p50), ms(x.p99), x.ratio.toFixed(2), String(x.failures), cpu(x)])),
    `gateway vs minimal proxy: ${(r.redirectMax[3]!.rps / r.redirectMax[2]!.rps).toFixed(2)} × the throughput (the gateway's own features: auth, limiter, breaker, headers, metrics, access log)`,
    ...(r.redirectMax[5] ? [`click enrichment (country, referrer host, device class): ${enrichmentCost(r)} per redirect in the shortener, measured as the difference of the two shortener rows`] : []),
    ...(r.redirectMax[4] ? [`2 shorteners vs 1 behind a gateway: ${(r.redirectMax[4].rps / r.redirectMax[3]!.rps).toFixed(2)} × the throughput — on ${r.machine.cores} cores shared with the load generator, Redis and the gateway, a second instance adds processes, not cores (docs/performance.md)`] : []),
    '',
    `Redirect, cache hit — latency at a fixed ${int(r.fixedRate)} req/s (half the baseline's maximum)`,
    table(['target', 'req/s', 'p50 ms', 'p99 ms', 'p99 × baseline', 'failures'],
      r.redirectFixed.map((x) => [x.name, int(x.rps), ms(x.p50), ms(x.p99), (x.p99 / r.redirectFixed[0]!.p99).toFixed(1), String(x.failures)])),
    '',
    'Through the gateway',
    table(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'failures', 'CPU µs/request'], [
      [`${r.shorten.name} (16 conn.)`, int(r.shorten.rps), ms(r.shorten.p50), ms(r.shorten.p99), String(r.shorten.failures), cpu(r.shorten)],
      [`${r.timeline.name}, 10 celebrities (32 conn.)`, int(r.timeline.rps), ms(r.timeline.p50), ms(r.timeline.p99), String(r.timeline.failures), cpu(r.timeline)]
    ]),
    '',
    `Fan-out on write — one post to ${int(r.fanout.followers)} followers (median of ${s.runs})`,
    table(['measure', 'value'], [
      ['POST /api/v1/posts → on every timeline', `${int(r.fanout.endToEndMs)} ms`],
      ['worker push time (timeline_fanout_duration)', `${int(r.fanout.pushMs)} ms`],
      ['timeline inserts/s', int(r.fanout.insertsPerSecond)],
      ['redis-benchmark ZADD, pipeline 16, same Redis', `${int(r.fanout.zaddPerSecond)} /s`],
      ['inserts/s ÷ ZADD/s', (r.fanout.insertsPerSecond / r.fanout.zaddPerSecond).toFixed(2)]
    ]),
    '',
    'Peak RSS (VmHWM) over the run',
    table(['process', 'MB'], r.rss.map((p) => [p.name, p.mb.toFixed(0)])),
    '',
    'Targets (issues #9 and #17)',
    table(['target', 'measured', ''], r.targets.map((t) => [t.target, t.value, t.met ? 'met' : 'MISSED']))
  ]
  process.stdout.write(out.join('\n') + '\n')
}
