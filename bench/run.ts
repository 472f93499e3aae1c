// `pnpm bench`: the whole system started natively, measured side by side in one run, printed
// as one table and saved as JSON under bench/results/. See docs/performance.md.
//
//   pnpm bench [--quick] [--duration S] [--runs N] [--connections C] [--followers N]
//              [--profile PROCESS]   write a V8 CPU profile of that process under bench/results/profiles
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '@shortfeed/infra'
import { SERVICE_HEAP_FLAGS, startStack, type Stack } from '@shortfeed/infra/stack'
import { Redis } from 'ioredis'
import { createApi } from './lib/api.ts'
import { clickHeaders } from './lib/clicks.ts'
import { measure, type LoadResult, type LoadTarget } from './lib/load.ts'
import { printReport, type Report } from './lib/report.ts'
import { measureFanout, seedFollowers } from './scenarios/fanout.ts'
import { seedCelebrityReader } from './scenarios/timeline.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string', default: '64' },
    followers: { type: 'string', default: '10000' },
    profile: { type: 'string', multiple: true, default: [] }
  }
})
const durationSeconds = Number(args.duration ?? (args.quick ? 3 : 8))
const runs = Number(args.runs ?? (args.quick ? 1 : 3))
const warmupSeconds = args.quick ? 1 : 3
const connections = Number(args.connections)
const followers = Number(args.followers)
const root = resolve(import.meta.dirname, '..')
const log = (line: string) => { process.stderr.write(`[bench] ${line}\n`) }
const LINKS = 200
const CELEBRITY_THRESHOLD = 50_000

const dataDir = mkdtempSync(join(tmpdir(), 'shortfeed-bench-'))
chmodSync(dataDir, 0o755)
let stack: Stack | undefined
const extra: ServerProcess[] = []

async function startHelper (name: string, file: string, env: Record<string, string>): Promise<{ url: string, process: ServerProcess }> {
  const port = await freePort()
  // Compiled and with the services' heap flags, as the services run: then their peak RSS is the
  // runtime's floor under the same load (type stripping alone adds ~17 MB).
  const compiled = join(root, 'bench/dist/servers', file.replace(/\.ts$/, '.js'))
  const child = spawnServer(name, process.execPath, [...SERVICE_HEAP_FLAGS, compiled], {
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), ...env }, logFile: join(dataDir, `${name}.log`)
  })
  extra.push(child)
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(child, async () => { await fetch(`${url}/health-check-${name}`) }, 30_000)
  return { url, process: child }
}

/** Peak resident set (VmHWM) of a process, in MB. */
function peakRssMb (pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : NaN
}

async function main () {
  const t0 = Date.now()
  log(`starting the stack natively in ${dataDir}`)
  // The limiter still decides every request (its cost is measured); it just never says no.
  const limits = { RATE_LIMIT_REDIRECT: '1000000000/1', RATE_LIMIT_READ: '1000000000/1', RATE_LIMIT_WRITE: '1000000000/1', RATE_LIMIT_LOGIN: '1000000000/1' }
  const processEnv: Record<string, Record<string, string>> = {
    gateway: limits,
    // A second gateway balancing over two shortener instances: the horizontal-scaling row.
    // eslint-disable-next-line no-template-curly-in-string -- the stack expands it, not JavaScript
    'gateway-2': { ...limits, UPSTREAM_SHORTENER: '${urls:shortener}' }
  }
  for (const name of args.profile) {
    processEnv[name] = { ...processEnv[name], NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(root, 'bench/results/profiles', name)}` }
  }
  stack = await startStack({
    dataDir,
    anyPorts: true,
    env: { CELEBRITY_FOLLOWER_THRESHOLD: String(CELEBRITY_THRESHOLD) },
    processEnv,
    instances: { shortener: 2, gateway: 2 },
    log
  })
  const url = (name: string) => stack!.processes.find((p) => p.name === name)!.url
  const gatewayUrl = url('gateway')
  const shortenerUrl = url('shortener')
  // The same shortener without click enrichment: the row beside "shortener direct" prices it.
  const plain = await stack.launch('shortener', { CLICK_ENRICHMENT_ENABLED: 'false' })
  const baseline = await startHelper('baseline', 'baseline.ts', { REDIS_URL: stack.infra.redisUrl, KEY_PREFIX: 'baseline:' })
  const minimalProxy = await startHelper('minimal-proxy', 'minimal-proxy.ts', { UPSTREAM: shortenerUrl })
  log(`stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; seeding`)

  const api = createApi(gatewayUrl)
  const linker = await api.register('bench_linker')
  const codes: string[] = []
  const redis = new Redis(stack.infra.redisUrl)
  for (let i = 0; i < LINKS; i++) {
    const target = `https://example.com/articles/${i}?utm_source=bench`
    const code = await api.shorten(linker, target)
    codes.push(code)
    await redis.set(`baseline:${code}`, target)
    // Warm the shortener's cache: the scenario is the cache-hit path.
    await fetch(`${shortenerUrl}/${code}`, { redirect: 'manual' })
    await fetch(`${url('shortener-2')}/${code}`, { redirect: 'manual' })
    await fetch(`${plain.url}/${code}`, { redirect: 'manual' })
  }
  redis.disconnect()
  // Clicks as they arrive: from many public addresses (forwarded, as the gateway does), with
  // referrers and browsers, so enrichment does its real work (a loopback address skips the lookup).
  const redirects = codes.map((code, i) => ({ path: `/${code}`, headers: clickHeaders(i) }))
  const pid = (name: string) => ({ name, pid: stack!.processes.find((p) => p.name === name)!.process.pid })
  const redirectTargets: LoadTarget[] = [
    { name: 'baseline (Fastify + ioredis)', baseUrl: baseline.url, requests: redirects, expectStatus: 302, processes: [{ name: 'baseline', pid: baseline.process.pid }] },
    { name: 'shortener direct', baseUrl: shortenerUrl, requests: redirects, expectStatus: 302, processes: [pid('shortener')] },
    { name: 'minimal proxy → shortener', baseUrl: minimalProxy.url, requests: redirects, expectStatus: 302, processes: [{ name: 'proxy', pid: minimalProxy.process.pid }, pid('shortener')] },
    { name: 'gateway → shortener', baseUrl: gatewayUrl, requests: redirects, expectStatus: 302, processes: [pid('gateway'), pid('shortener')] },
    { name: 'gateway → 2 shorteners', baseUrl: url('gateway-2'), requests: redirects, expectStatus: 302, processes: [pid('gateway-2'), pid('shortener'), pid('shortener-2')] },
    { name: 'shortener, click enrichment off', baseUrl: plain.url, requests: redirects, expectStatus: 302, processes: [{ name: 'shortener', pid: plain.process.pid }] }
  ]
  const load = { durationSeconds, warmupSeconds, runs, connections }

  log('redirect (cache hit): maximum throughput')
  const redirectMax = await measure(redirectTargets, load)
  const fixedRate = Math.round(redirectMax[0]!.rps / 2)
  log(`redirect (cache hit): latency at ${fixedRate} req/s`)
  const redirectFixed = await measure(redirectTargets.slice(0, 4), { ...load, rate: fixedRate })

  log('shorten through the gateway')
  const writer = await api.register('bench_writer')
  const [shorten] = await measure([{
    name: 'POST /api/v1/urls via gateway',
    baseUrl: gatewayUrl,
    requests: [{ method: 'POST', path: '/api/v1/urls', headers: { 'content-type': 'application/json', authorization: `Bearer ${writer.token}` }, body: JSON.stringify({ url: 'https://example.com/a/fairly/typical/path?with=query' }) }],
    expectStatus: 201,
    processes: [pid('gateway'), pid('shortener')]
  }], { ...load, connections: 16 })

  log('home timeline with 10 followed celebrities')
  const reader = await seedCelebrityReader(api, stack.infra.postgresUrl, 'bench')
  const [timeline] = await measure([{
    name: 'GET /api/v1/timeline via gateway',
    baseUrl: gatewayUrl,
    requests: [{ path: '/api/v1/timeline?limit=20', headers: { authorization: `Bearer ${reader.token}` } }],
    expectStatus: 200,
    processes: [pid('gateway'), pid('timeline')]
  }], { ...load, connections: 32 })

  log(`fan-out to ${followers} followers`)
  const author = await api.register('bench_author')
  const followerIds = await seedFollowers(new URL('/timeline', stack.infra.postgresUrl).toString(), stack.infra.redisUrl, author, followers)
  const fanout = await measureFanout({ api, author, followerIds, redisUrl: stack.infra.redisUrl, fanoutMetricsUrl: `${url('timeline-fanout')}/metrics`, runs })

  const rss = [
    ...stack.processes.map((p) => ({ name: p.name, mb: peakRssMb(p.process.pid) })),
    { name: 'baseline (bench)', mb: peakRssMb(baseline.process.pid) },
    { name: 'minimal proxy (bench)', mb: peakRssMb(minimalProxy.process.pid) }
  ]

  const report: Report = {
    at: new Date().toISOString(),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: { durationSeconds, warmupSeconds, runs, connections, links: LINKS, followers },
    redirectMax: withRatios(redirectMax),
    fixedRate,
    redirectFixed,
    shorten: shorten!,
    timeline: timeline!,
    fanout,
    rss
  }
  printReport(report)
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  const json = JSON.stringify(report, null, 2) + '\n'
  const file = join(root, 'bench/results', `${report.at.replaceAll(':', '-').slice(0, 19)}.json`)
  writeFileSync(file, json)
  writeFileSync(join(root, 'bench/results/latest.json'), json)
  log(`saved ${file} (and bench/results/latest.json); total ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}

function withRatios (results: LoadResult[]) {
  return results.map((r) => ({ ...r, ratio: r.rps / results[0]!.rps }))
}

async function stopAll () {
  await Promise.allSettled(extra.map((p) => p.stop('SIGTERM', 5_000)))
  await stack?.stop()
  rmSync(dataDir, { recursive: true, force: true })
}

let stopping = false
process.on('SIGINT', () => { if (!stopping) { stopping = true; void stopAll().then(() => process.exit(130)) } })
try {
  await main()
  await stopAll()
} catch (err) {
  process.stderr.write(`[bench] failed: ${(err as Error).stack ?? String(err)}\n`)
  await stopAll()
  process.exit(1)
}
