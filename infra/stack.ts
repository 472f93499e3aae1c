// `pnpm stack`: the whole system natively (infra/stack/start-stack.ts does the work). Prints
// where everything listens; Ctrl-C stops the services (newest first, draining), then the
// infrastructure, and leaves no process behind.
//
//   pnpm stack [--fresh] [--infra-only] [--data-dir DIR] [--any-ports]
//
// Every variable in this process's environment reaches every service, so knobs are set on the
// command line: `CACHE_ENABLED=false ./run stack`.
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startStack, type Stack } from './stack/start-stack.ts'

const root = resolve(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'infra-only': { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: join(root, '.stack') },
    'any-ports': { type: 'boolean', default: false }
  }
})
const log = (line: string) => { process.stdout.write(`[stack] ${line}\n`) }

let stack: Stack | undefined
let stopping = false
async function shutdown (code: number) {
  if (stopping) return
  stopping = true
  log('stopping…')
  await stack?.stop()
  process.exit(code)
}
process.on('SIGINT', () => { void shutdown(0) })
process.on('SIGTERM', () => { void shutdown(0) })

try {
  const t0 = Date.now()
  const dataDir = resolve(args['data-dir'])
  stack = await startStack({
    dataDir,
    fresh: args.fresh,
    infraOnly: args['infra-only'],
    anyPorts: args['any-ports'],
    given: {
      ...(process.env['POSTGRES_URL'] ? { postgresUrl: process.env['POSTGRES_URL'] } : {}),
      ...(process.env['REDIS_URL'] ? { redisUrl: process.env['REDIS_URL'] } : {}),
      ...(process.env['KAFKA_BROKERS'] ? { kafkaBrokers: process.env['KAFKA_BROKERS'] } : {})
    },
    log
  })
  log(`postgres  ${stack.infra.postgresUrl}`)
  log(`redis     ${stack.infra.redisUrl}`)
  log(`kafka     ${stack.infra.kafkaBrokers}`)
  for (const s of stack.processes) log(`${s.name.padEnd(16)} ${s.url}  (pid ${s.process.pid}, log ${s.process.logFile})`)
  log(`pids ${stack.pids.map((s) => `${s.name}=${s.pid}`).join(' ')}`)
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s — data in ${dataDir}; Ctrl-C stops everything`)
  // Children are unref'd; this keeps the orchestrator alive until a signal arrives.
  setInterval(() => {}, 1 << 30)
} catch (err) {
  process.stderr.write(`[stack] failed: ${(err as Error).message}\n`)
  await shutdown(1)
}
