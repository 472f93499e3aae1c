// `pnpm stack`: the whole system natively. Starts Postgres, Redis and Kafka on loopback (or uses
// POSTGRES_URL / REDIS_URL / KAFKA_BROKERS when given), creates each service's database, runs
// its migrations, starts every process that services/*/package.json declares under
// "shortfeed", waits until each is ready, and prints where everything listens. Ctrl-C stops the
// services (newest first, draining), then the infrastructure, and leaves no process behind.
//
//   pnpm stack [--fresh] [--infra-only] [--data-dir DIR] [--any-ports]
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  ensureDatabase, freePort, startNativeKafka, startNativePostgres, startNativeRedis, spawnServer,
  waitUntilReady, type ServerProcess
} from './native/index.ts'

interface ProcessManifest {
  /** Process name, e.g. "timeline-fanout". */
  name: string
  /** Entry file relative to the service folder. */
  entry: string
  port: number
  /** Database this process uses (created by the stack); omit when it has none. */
  database?: string
  /** Migrations folder relative to the service folder, applied before any process starts. */
  migrations?: string
  /** Extra environment; `${port:<name>[,<fallback>]}` expands to a process's port. */
  env?: Record<string, string>
  /** Lower starts first; the gateway goes last. */
  startOrder?: number
}

interface Service { dir: string, processes: ProcessManifest[] }

const root = resolve(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'infra-only': { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: join(root, '.stack') },
    'any-ports': { type: 'boolean', default: false }
  }
})
const dataDir = resolve(args['data-dir'])
const stops: Array<{ name: string, pid: number, stop: () => Promise<void> }> = []
const log = (line: string) => { process.stdout.write(`[stack] ${line}\n`) }

function discoverServices (): Service[] {
  const servicesDir = join(root, 'services')
  if (!existsSync(servicesDir)) return []
  return readdirSync(servicesDir)
    .map((name) => join(servicesDir, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, processes: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).shortfeed?.processes ?? []) as ProcessManifest[] }))
    .filter((s) => s.processes.length > 0)
}

async function port (preferred: number) {
  return args['any-ports'] ? freePort() : freePort(preferred)
}

async function startInfrastructure () {
  if (args.fresh) rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir, { recursive: true })
  // The postgres user must reach its data directory when the stack runs as root.
  chmodSync(dataDir, 0o755)

  const given = { postgres: process.env['POSTGRES_URL'], redis: process.env['REDIS_URL'], kafka: process.env['KAFKA_BROKERS'] }
  const [postgresUrl, redisUrl, kafkaBrokers] = await Promise.all([
    given.postgres ?? startNativePostgres({ dir: join(dataDir, 'postgres'), port: await port(55432) }).then((pg) => {
      stops.push({ name: 'postgres', pid: pg.process.pid, stop: pg.stop })
      return pg.url
    }),
    given.redis ?? startNativeRedis({ dir: join(dataDir, 'redis'), port: await port(56379) }).then((redis) => {
      stops.push({ name: 'redis', pid: redis.process.pid, stop: redis.stop })
      return redis.url
    }),
    given.kafka ?? startNativeKafka({ dir: join(dataDir, 'kafka'), port: await port(59092), controllerPort: await port(59093) }).then((kafka) => {
      stops.push({ name: 'kafka', pid: kafka.process.pid, stop: kafka.stop })
      return kafka.brokers
    })
  ])
  return { postgresUrl, redisUrl, kafkaBrokers }
}

async function migrate (service: Service, processManifest: ProcessManifest, databaseUrl: string) {
  const { migrateDatabase } = await import('@shortfeed/common')
  const { pino } = await import('pino')
  const applied = await migrateDatabase({
    databaseUrl,
    dir: join(service.dir, processManifest.migrations!),
    logger: pino({ level: 'warn' })
  })
  log(`migrated ${processManifest.database}: ${applied.length === 0 ? 'up to date' : applied.join(', ')}`)
}

async function startServices (infra: { postgresUrl: string, redisUrl: string, kafkaBrokers: string }) {
  const services = discoverServices()
  const all = services.flatMap((service) => service.processes.map((p) => ({ service, manifest: p })))
  if (all.length === 0) {
    log('no services declared under services/*/package.json yet: infrastructure only')
    return []
  }
  const ports = new Map<string, number>()
  for (const { manifest } of all) ports.set(manifest.name, args['any-ports'] ? await freePort() : manifest.port)

  const migrated = new Set<string>()
  for (const { service, manifest } of all) {
    if (!manifest.database) continue
    const url = await ensureDatabase(infra.postgresUrl, manifest.database)
    if (manifest.migrations && !migrated.has(manifest.database)) {
      await migrate(service, manifest, url)
      migrated.add(manifest.database)
    }
  }

  const logsDir = join(dataDir, 'logs')
  mkdirSync(logsDir, { recursive: true })
  const started: Array<{ name: string, url: string, process: ServerProcess }> = []
  for (const { service, manifest } of all.sort((a, b) => (a.manifest.startOrder ?? 0) - (b.manifest.startOrder ?? 0))) {
    // `${port:a,b}` is the port of process a, or of b when a is not declared (yet).
    const expand = (value: string) => value.replace(/\$\{port:([\w,-]+)\}/g, (_m, names: string) => {
      const port = names.split(',').map((n) => ports.get(n)).find((p) => p !== undefined)
      if (port === undefined) throw new Error(`${manifest.name}: no process among ${names} for \${port:${names}}`)
      return String(port)
    })
    const extra = Object.fromEntries(Object.entries(manifest.env ?? {}).map(([k, v]) => [k, expand(v)]))
    const env = {
      ...process.env,
      ...extra,
      PORT: String(ports.get(manifest.name)),
      HOST: '127.0.0.1',
      SERVICE_NAME: manifest.name,
      MIGRATE_ON_START: 'false',
      REDIS_URL: infra.redisUrl,
      KAFKA_BROKERS: infra.kafkaBrokers,
      ...(manifest.database ? { DATABASE_URL: new URL(`/${manifest.database}`, infra.postgresUrl).toString() } : {})
    }
    const child = spawnServer(manifest.name, process.execPath, ['--import', '@shortfeed/common/register-telemetry', manifest.entry], {
      cwd: service.dir, env, logFile: join(logsDir, `${manifest.name}.log`)
    })
    stops.push({ name: manifest.name, pid: child.pid, stop: () => child.stop('SIGTERM', 15_000) })
    const url = `http://127.0.0.1:${ports.get(manifest.name)}`
    await waitUntilReady(child, async () => {
      const res = await fetch(`${url}/health/ready`)
      if (!res.ok) throw new Error(`ready answered ${res.status}`)
    }, 90_000)
    started.push({ name: manifest.name, url, process: child })
  }
  return started
}

async function stopAll () {
  for (const { name, stop } of stops.reverse()) {
    try {
      await stop()
      log(`stopped ${name}`)
    } catch (err) {
      log(`could not stop ${name}: ${(err as Error).message}`)
    }
  }
}

let stopping = false
async function shutdown (code: number) {
  if (stopping) return
  stopping = true
  log('stopping…')
  await stopAll()
  process.exit(code)
}
process.on('SIGINT', () => { void shutdown(0) })
process.on('SIGTERM', () => { void shutdown(0) })

try {
  const t0 = Date.now()
  const infra = await startInfrastructure()
  log(`postgres  ${infra.postgresUrl}`)
  log(`redis     ${infra.redisUrl}`)
  log(`kafka     ${infra.kafkaBrokers}`)
  const services = args['infra-only'] ? [] : await startServices(infra)
  for (const s of services) log(`${s.name.padEnd(16)} ${s.url}  (pid ${s.process.pid}, log ${s.process.logFile})`)
  log(`pids ${stops.map((s) => `${s.name}=${s.pid}`).join(' ')}`)
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s — data in ${dataDir}; Ctrl-C stops everything`)
  // Children are unref'd; this keeps the orchestrator alive until a signal arrives.
  setInterval(() => {}, 1 << 30)
} catch (err) {
  process.stderr.write(`[stack] failed: ${(err as Error).message}\n`)
  await shutdown(1)
}
