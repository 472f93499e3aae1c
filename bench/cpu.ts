// `node bench/cpu.ts`: CPU time each process spends per redirect (user + system, from /proc),
// which, unlike requests per second, barely moves when something else loads the machine.
// Use it to compare a change before and after; `pnpm bench` is the side-by-side table.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startStack } from '@shortfeed/infra/stack'
import autocannon from 'autocannon'
import { createApi } from './lib/api.ts'

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, env: { type: 'string', multiple: true, default: [] }, profile: { type: 'string' }, 'node-arg': { type: 'string', multiple: true, default: [] }, hold: { type: 'boolean', default: false } } })
const amount = Number(args.requests)
const ticks = 100 // USER_HZ on Linux
const extraEnv = Object.fromEntries(args.env.map((kv) => kv.split('=', 2) as [string, string]))

function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticks
}
function rssMb (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

const dataDir = mkdtempSync(join(tmpdir(), 'shortfeed-cpu-'))
chmodSync(dataDir, 0o755)
const gatewayLimits = { RATE_LIMIT_REDIRECT: '1000000000/1', RATE_LIMIT_READ: '1000000000/1', RATE_LIMIT_WRITE: '1000000000/1', RATE_LIMIT_LOGIN: '1000000000/1' }
const processEnv: Record<string, Record<string, string>> = { gateway: gatewayLimits }
if (args.profile) processEnv[args.profile] = { ...processEnv[args.profile], NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(import.meta.dirname, 'results/profiles', args.profile)}` }
const nodeArgs = args['node-arg'].length > 0 ? [...args['node-arg'], '--import', '@shortfeed/common/register-telemetry'] : undefined
const stack = await startStack({ dataDir, anyPorts: true, env: extraEnv, processEnv, ...(nodeArgs ? { nodeArgs } : {}), log: () => {} })
// Ctrl-C stops the stack too (with --hold, Ctrl-C is how the run ends).
if (!args.hold) process.once('SIGINT', () => { void stack.stop().finally(() => process.exit(130)) })
try {
  const proc = (name: string) => stack.processes.find((p) => p.name === name)!
  const api = createApi(proc('gateway').url)
  const user = await api.register('cpu_user')
  const codes: string[] = []
  for (let i = 0; i < 50; i++) codes.push(await api.shorten(user, `https://example.com/${i}`))
  const idle = Object.fromEntries(stack.processes.map((p) => [p.name, rssMb(p.process.pid, 'VmRSS')]))
  for (const target of ['shortener', 'gateway']) {
    const run = () => autocannon({ url: proc(target).url, connections: 32, amount, requests: codes.map((c) => ({ path: `/${c}` })) })
    await run() // warm-up
    const before = Object.fromEntries(stack.processes.map((p) => [p.name, cpuSeconds(p.process.pid)]))
    const result = await run()
    const rows = stack.processes.map((p) => ({ name: p.name, us: (cpuSeconds(p.process.pid) - before[p.name]!) / amount * 1e6 })).filter((r) => r.us > 1)
    console.log(`${target}: ${Math.round(result.requests.average)} req/s, 302s ${result['3xx']}, p99 ${result.latency.p99} ms; CPU µs/request: ${rows.map((r) => `${r.name} ${r.us.toFixed(0)}`).join(', ')}`)
  }
  if (args.hold) {
    console.log(`holding: ${stack.processes.map((p) => `${p.name} ${p.url} pid ${p.process.pid}`).join(', ')}; codes ${codes.slice(0, 3).join(' ')}`)
    const keepAlive = setInterval(() => {}, 1000)
    await new Promise((resolve) => process.once('SIGINT', resolve))
    clearInterval(keepAlive)
  }
  console.log(`RSS MB idle → peak: ${stack.processes.map((p) => `${p.name} ${idle[p.name]!.toFixed(0)}→${rssMb(p.process.pid, 'VmHWM').toFixed(0)}`).join(', ')}`)
} finally {
  await stack.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
