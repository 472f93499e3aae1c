// `node bench/cpu.ts`: CPU time a process spends per request (user + system, from /proc), which,
// unlike requests per second, barely moves when something else loads the machine. Use it to
// try a change; `./run bench` is the side-by-side table.
//
//   node bench/cpu.ts [--targets shortener,gateway,timeline] [--requests N] [--rounds R]
//                     [--against DIR]   A/B: the same processes from another checkout (say a
//                                       `git worktree` of main), started next to ours against
//                                       the same servers and measured in alternation
//                     [--against env:K=V[,K=V]]  A/B: ours again, with these variables changed
//                     [--profile NAME]  a V8 CPU profile of that process (bench/results/profiles)
//                     [--env K=V] [--node-arg FLAG] [--hold]
//
// Targets: shortener = GET /{code} on the shortener (cache hit); gateway = the same through the
// gateway; timeline = GET /api/v1/timeline on the timeline service for a reader who follows 10
// celebrities (pulled at read time), with the identity the gateway would sign.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { signIdentity } from '@shortfeed/common'
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '@shortfeed/infra'
import { SERVICE_HEAP_FLAGS, startStack } from '@shortfeed/infra/stack'
import autocannon from 'autocannon'
import { createApi } from './lib/api.ts'
import { median } from './lib/load.ts'
import { seedCelebrityReader } from './scenarios/timeline.ts'
import { clickHeaders } from './lib/clicks.ts'

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'shortener,gateway' },
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    profile: { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    hold: { type: 'boolean', default: false }
  }
})
const amount = Number(args.requests)
const rounds = Number(args.rounds)
const targets = args.targets.split(',') as Array<'shortener' | 'gateway' | 'timeline'>
const ticks = 100 // USER_HZ on Linux
const extraEnv = Object.fromEntries(args.env.map((kv) => kv.split('=', 2) as [string, string]))

function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticks
}
function rssMb (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}
/** A running process' environment: the A/B twin gets exactly what ours was started with. */
function environOf (pid: number): Record<string, string> {
  return Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => {
    const eq = kv.indexOf('=')
    return [kv.slice(0, eq), kv.slice(eq + 1)]
  }))
}

const dataDir = mkdtempSync(join(tmpdir(), 'shortfeed-cpu-'))
chmodSync(dataDir, 0o755)
const gatewayLimits = { RATE_LIMIT_REDIRECT: '1000000000/1', RATE_LIMIT_READ: '1000000000/1', RATE_LIMIT_WRITE: '1000000000/1', RATE_LIMIT_LOGIN: '1000000000/1' }
const processEnv: Record<string, Record<string, string>> = { gateway: gatewayLimits, timeline: { CELEBRITY_FOLLOWER_THRESHOLD: '50000' } }
const profileFlags = (name: string) => ['--cpu-prof', `--cpu-prof-dir=${join(import.meta.dirname, 'results/profiles', name)}`]
if (args.profile) processEnv[args.profile] = { ...processEnv[args.profile], NODE_OPTIONS: profileFlags(args.profile).join(' ') }
const nodeArgs = args['node-arg'].length > 0 ? [...args['node-arg'], '--import', '@shortfeed/common/register-telemetry'] : undefined
const stack = await startStack({ dataDir, anyPorts: true, env: extraEnv, processEnv, ...(nodeArgs ? { nodeArgs } : {}), log: () => {} })
const twins: ServerProcess[] = []
// Ctrl-C stops the stack too (with --hold, Ctrl-C is how the run ends).
if (!args.hold) process.once('SIGINT', () => { void Promise.all(twins.map((t) => t.stop('SIGTERM', 5_000))).then(() => stack.stop()).finally(() => process.exit(130)) })

const againstEnv = args.against?.startsWith('env:') ? Object.fromEntries(args.against.slice(4).split(',').map((kv) => kv.split('=', 2) as [string, string])) : undefined
const againstDir = args.against && !againstEnv ? resolve(args.against) : undefined

/**
 * A second instance of a process, from this checkout or the other one (or ours with other
 * variables), on its own port, with the environment the stack gave the first. In an A/B both
 * sides are such instances: the stack's own holds the outbox relay's lock and consumer
 * partitions, work a second instance does not do, which biased an A/B against it by ~10 %.
 */
async function startTwin (name: string, pid: number, other: boolean): Promise<{ url: string, pid: number }> {
  const dir = join((other ? againstDir : undefined) ?? resolve(import.meta.dirname, '..'), 'services', name)
  const port = await freePort()
  const env = { ...environOf(pid), ...(other ? againstEnv : {}), PORT: String(port) }
  const child = spawnServer(`${name}${other ? ' (against)' : ''}`, process.execPath, ['--conditions=shortfeed-dist', ...SERVICE_HEAP_FLAGS, '--import', '@shortfeed/common/register-telemetry', 'dist/src/server.js'], { cwd: dir, env, logFile: join(dataDir, `${name}-${other ? 'against' : 'this'}.log`) })
  twins.push(child)
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(child, async () => {
    const res = await fetch(`${url}/health/ready`)
    if (!res.ok) throw new Error(`ready answered ${res.status}`)
  }, 90_000)
  return { url, pid: child.pid }
}

try {
  const proc = (name: string) => stack.processes.find((p) => p.name === name)!
  if (againstDir) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b'], { cwd: againstDir, stdio: 'inherit' })
  }
  const api = createApi(proc('gateway').url)
  const user = await api.register('cpu_user')
  const codes: string[] = []
  for (let i = 0; i < 50; i++) codes.push(await api.shorten(user, `https://example.com/${i}`))
  const reader = targets.includes('timeline') ? await seedCelebrityReader(api, stack.infra.postgresUrl, 'cpu') : undefined
  // The stack leaves the secret at the services' development default unless the environment sets one.
  const secret = environOf(proc('timeline').process.pid)['INTERNAL_AUTH_SECRET'] ?? 'development-internal-auth-secret'
  const idle = Object.fromEntries(stack.processes.map((p) => [p.name, rssMb(p.process.pid, 'VmRSS')]))

  for (const target of targets) {
    const ours = { url: proc(target).url, pid: proc(target).process.pid }
    const sides = args.against
      ? [{ side: 'this checkout', ...await startTwin(target, ours.pid, false) }, { side: args.against, ...await startTwin(target, ours.pid, true) }]
      : [{ side: 'this checkout', ...ours }]
    const requests = () => target === 'timeline'
      // Signed per request: a signature is valid for a minute, a slow run lasts longer.
      ? [{ path: '/api/v1/timeline?limit=20', setupRequest: (request: autocannon.Request) => ({ ...request, headers: signIdentity(secret, reader!.id) }) }]
      : codes.map((c, i) => ({ path: `/${c}`, headers: clickHeaders(i) }))
    const expected = target === 'timeline' ? '2xx' : '3xx'
    const run = (url: string) => autocannon({ url, connections: 32, amount, requests: requests() })
    for (const s of sides) await run(s.url) // warm-up
    const samples = new Map(sides.map((s) => [s.side, [] as number[]]))
    for (let round = 0; round < rounds; round++) {
      for (const s of sides) {
        const before = cpuSeconds(s.pid)
        const result = await run(s.url)
        if (result[expected] !== amount) throw new Error(`${target} (${s.side}): ${result[expected]} of ${amount} answered ${expected}`)
        samples.get(s.side)!.push((cpuSeconds(s.pid) - before) / amount * 1e6)
      }
    }
    const mine = median(samples.get('this checkout')!)
    for (const s of sides) {
      const us = median(samples.get(s.side)!)
      console.log(`${target.padEnd(10)} ${s.side.padEnd(24)} ${us.toFixed(0).padStart(6)} µs/request${s.side === 'this checkout' ? '' : `   this checkout ÷ it: ${(mine / us).toFixed(2)}`}   (rounds: ${samples.get(s.side)!.map((x) => x.toFixed(0)).join(', ')})`)
    }
  }
  if (args.hold) {
    console.log(`holding: ${stack.processes.map((p) => `${p.name} ${p.url} pid ${p.process.pid}`).join(', ')}; codes ${codes.slice(0, 3).join(' ')}`)
    const keepAlive = setInterval(() => {}, 1000)
    await new Promise((resolve) => process.once('SIGINT', resolve))
    clearInterval(keepAlive)
  }
  console.log(`RSS MB idle → peak: ${stack.processes.map((p) => `${p.name} ${idle[p.name]!.toFixed(0)}→${rssMb(p.process.pid, 'VmHWM').toFixed(0)}`).join(', ')}`)
} finally {
  await Promise.all(twins.map((t) => t.stop('SIGTERM', 5_000)))
  await stack.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
