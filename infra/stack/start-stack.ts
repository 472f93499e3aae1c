// The whole system natively, as a library: starts Postgres, Redis and Kafka on loopback (or
// uses the URLs given), creates each service's database, runs its migrations, compiles the
// services (`tsc -b`), starts every process that services/*/package.json declares under
// "shortfeed" from its dist/ and waits until each is ready. Its callers: `pnpm stack`
// (infra/stack.ts), the bench, the fault matrix, the abuse suite and the browser test.
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  ensureDatabase, freePort, startNativeKafka, startNativePostgres, startNativeRedis, spawnServer,
  waitUntilReady, type ServerProcess
} from '../native/index.ts'

export interface ProcessManifest {
  /** Process name, e.g. "timeline-fanout". */
  name: string
  /** Entry file relative to the service folder. */
  entry: string
  port: number
  /** Database this process uses (created by the stack); omit when it has none. */
  database?: string
  /** Set on the process that owns the database's schema: its `src/migrate.ts` runs before any process starts. */
  migrations?: string
  /**
   * Extra environment: `${port:<name>}` expands to a process's port (its first
   * instance), `${urls:<name>}` to the URLs of all its instances, comma-separated.
   */
  env?: Record<string, string>
  /** Lower starts first; the gateway goes last. */
  startOrder?: number
}

interface Service { dir: string, processes: ProcessManifest[] }

export interface Infrastructure { postgresUrl: string, redisUrl: string, kafkaBrokers: string }

export interface StackOptions {
  dataDir: string
  /** Wipe the data directory first. */
  fresh?: boolean
  /** Start Postgres, Redis and Kafka only. */
  infraOnly?: boolean
  /** Free ports instead of the fixed ones (55432, 56379, 59092, 8080…). */
  anyPorts?: boolean
  /** Ports chosen by the caller per process name (a fault test puts a proxy in front of them). */
  ports?: Record<string, number>
  /** Servers to use instead of starting them (POSTGRES_URL, REDIS_URL, KAFKA_BROKERS). */
  given?: Partial<Infrastructure>
  /** Environment for every service process, on top of this process's. */
  env?: Record<string, string>
  /** Environment per process name (instances: `shortener-2`…), expanded as manifests are, applied last. */
  processEnv?: Record<string, Record<string, string>>
  /** Instances per process name (default 1); the second of `shortener` is `shortener-2`. */
  instances?: Record<string, number>
  /** Node flags before the entry; the default preloads telemetry as production does. */
  nodeArgs?: string[]
  /**
   * Prefix for every database name (`abuse_x_` → `abuse_x_shortener`), so several stacks can
   * share one Postgres.
   */
  databasePrefix?: string
  /**
   * Run the TypeScript sources instead of dist/, without building: what tests do, since several
   * test files may start stacks at once and two `tsc -b` writing one tree would race.
   */
  sources?: boolean
  log?: (line: string) => void
}

export interface StartedProcess {
  name: string
  url: string
  /** The running process; replaced by restart(). */
  process: ServerProcess
  /**
   * Starts the process again with the same port and environment once it has exited (the
   * fault tests kill services and revive them); resolves when it is ready.
   */
  restart: () => Promise<ServerProcess>
}

export interface Stack {
  infra: Infrastructure
  processes: StartedProcess[]
  /** Every pid the stack owns, infrastructure included, for reports (RSS, `kill`). */
  pids: Array<{ name: string, pid: number }>
  /**
   * One more instance of a declared process with extra environment (say a gateway with strict
   * limits in front of the same services), on a free port, stopped with the stack.
   */
  launch: (name: string, env?: Record<string, string>) => Promise<StartedProcess>
  /** Stops the services (newest first, draining), then the infrastructure. */
  stop: () => Promise<void>
}

const root = resolve(import.meta.dirname, '../..')

/**
 * V8 sizes its heap from the machine's memory, so on a 24 GB host a service lets garbage pile
 * up to 300–450 MB under load before a full collection although it holds ~45 MB live. Capping
 * the old generation, and the young one at 2 MB per semi-space (8 MB cost ~12 MB more RSS and
 * no measurable CPU), keeps a service at 105–170 MB at peak (docs/performance.md). The services'
 * `start` scripts use the same flags.
 */
export const SERVICE_HEAP_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=128']

/**
 * Services run as production runs them: the JavaScript `tsc -b` emits into each package's
 * dist/, not the TypeScript sources, whose type stripping loads a WebAssembly transpiler of
 * ~17 MB into every process. The condition points `@shortfeed/common` at its dist/ too.
 */
const COMPILED_CONDITION = '--conditions=shortfeed-dist'

/** `src/server.ts` → `dist/src/server.js`, where `tsc -b` emits it. */
function compiledEntry (entry: string): string {
  return join('dist', entry.replace(/\.ts$/, '.js'))
}

/** How a process starts: the compiled entry as production runs it, or the source a test runs. */
function entryArgs (entry: string, sources: boolean, nodeArgs: string[] = []): string[] {
  return sources ? [...nodeArgs, entry] : [COMPILED_CONDITION, ...nodeArgs, compiledEntry(entry)]
}

/** Brings every package's dist/ up to date (incremental: seconds when nothing changed). */
async function buildServices (): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  try {
    await promisify(execFile)(process.execPath, [tsc, '-b'], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const { stdout } = err as { stdout?: string }
    throw new Error(`tsc -b failed; the services were not started:\n${stdout ?? (err as Error).message}`)
  }
}

/** The newest modification time under a path (files and directories, recursively). */
function newestMtime (path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

/**
 * Builds the web UI (packages/web, Vite) when its sources are newer than its build; the gateway
 * serves packages/web/dist at `/`. Returns whether it built.
 */
export async function buildWebUi (): Promise<boolean> {
  const web = join(root, 'packages', 'web')
  if (!existsSync(join(web, 'package.json'))) return false
  const sources = Math.max(
    newestMtime(join(web, 'src')),
    newestMtime(join(web, 'index.html')),
    newestMtime(join(web, 'vite.config.ts')),
    newestMtime(join(web, 'package.json'))
  )
  if (newestMtime(join(web, 'dist', 'index.html')) >= sources) return false
  try {
    await promisify(execFile)(process.execPath, [join(web, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: web, maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string, stderr?: string }
    throw new Error(`the web UI's build failed:\n${stdout ?? ''}${stderr ?? (err as Error).message}`)
  }
  return true
}

export function discoverServices (): Service[] {
  const servicesDir = join(root, 'services')
  if (!existsSync(servicesDir)) return []
  return readdirSync(servicesDir)
    .map((name) => join(servicesDir, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const packageJson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      return { dir, processes: (packageJson.shortfeed?.processes ?? []) as ProcessManifest[] }
    })
    .filter((s) => s.processes.length > 0)
}

export async function startStack (options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {})
  const dataDir = resolve(options.dataDir)
  const owned: Array<{ name: string, pid: number, stop: () => Promise<void> }> = []
  const port = (preferred: number) => options.anyPorts ? freePort() : freePort(preferred)

  const stop = async () => {
    for (const { name, stop } of owned.splice(0).reverse()) {
      try {
        await stop()
        log(`stopped ${name}`)
      } catch (err) {
        log(`could not stop ${name}: ${(err as Error).message}`)
      }
    }
  }

  async function startInfrastructure (): Promise<Infrastructure> {
    if (options.fresh) rmSync(dataDir, { recursive: true, force: true })
    mkdirSync(dataDir, { recursive: true })
    // The postgres user must reach its data directory when the stack runs as root.
    chmodSync(dataDir, 0o755)
    const given = options.given ?? {}
    const [postgresUrl, redisUrl, kafkaBrokers] = await Promise.all([
      given.postgresUrl ?? startNativePostgres({ dir: join(dataDir, 'postgres'), port: await port(55432) }).then((pg) => {
        owned.push({ name: 'postgres', pid: pg.process.pid, stop: pg.stop })
        return pg.url
      }),
      given.redisUrl ?? startNativeRedis({ dir: join(dataDir, 'redis'), port: await port(56379) }).then((redis) => {
        owned.push({ name: 'redis', pid: redis.process.pid, stop: redis.stop })
        return redis.url
      }),
      given.kafkaBrokers ?? startNativeKafka({
        dir: join(dataDir, 'kafka'),
        port: await port(59092),
        controllerPort: await port(59093)
      }).then((kafka) => {
        owned.push({ name: 'kafka', pid: kafka.process.pid, stop: kafka.stop })
        return kafka.brokers
      })
    ])
    return { postgresUrl, redisUrl, kafkaBrokers }
  }

  /**
   * Each service's own migrate command (`src/migrate.ts`, compiled), as an operator would run it:
   * the stack starts services without importing their code or the package they share.
   */
  async function migrate (service: Service, manifest: ProcessManifest, databaseUrl: string) {
    const args = entryArgs('src/migrate.ts', options.sources === true)
    const entry = args.at(-1)!
    try {
      const { stdout } = await promisify(execFile)(process.execPath, args, {
        cwd: service.dir,
        env: { ...process.env, DATABASE_URL: databaseUrl }
      })
      log(`migrated ${manifest.database}: ${stdout.trim().split('\n').at(-1)}`)
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string, stderr?: string }
      const output = `${stdout ?? ''}${stderr ?? (err as Error).message}`
      throw new Error(`migrating ${manifest.database} (${service.dir}/${entry}) failed:\n${output}`)
    }
  }

  async function startServices (infra: Infrastructure): Promise<StartedProcess[]> {
    const all = discoverServices().flatMap((service) => service.processes.map((p) => ({ service, manifest: p })))
    if (all.length === 0) {
      log('no services declared under services/*/package.json yet: infrastructure only')
      return []
    }
    if (!options.sources) {
      const built = Date.now()
      await buildServices()
      log(`built (tsc -b) in ${((Date.now() - built) / 1000).toFixed(1)} s`)
      const webBuilt = Date.now()
      if (await buildWebUi()) log(`built the web UI (vite) in ${((Date.now() - webBuilt) / 1000).toFixed(1)} s`)
    }
    const databaseName = (manifest: ProcessManifest) => `${options.databasePrefix ?? ''}${manifest.database}`
    const instances = all.flatMap(({ service, manifest }) => Array.from({ length: options.instances?.[manifest.name] ?? 1 }, (_, i) =>
      ({ service, manifest, name: i === 0 ? manifest.name : `${manifest.name}-${i + 1}`, index: i })))
    const ports = new Map<string, number>()
    for (const { name, manifest, index } of instances) {
      ports.set(name, options.ports?.[name] ?? (
        options.anyPorts ? await freePort() : index > 0 ? await freePort(manifest.port + 100 * index) : manifest.port
      ))
    }
    const urlsOf = (name: string) => instances.filter((i) => i.manifest.name === name).map((i) => `http://127.0.0.1:${ports.get(i.name)}`)

    const migrated = new Set<string>()
    for (const { service, manifest } of all) {
      if (!manifest.database) continue
      const url = await ensureDatabase(infra.postgresUrl, databaseName(manifest))
      if (manifest.migrations && !migrated.has(manifest.database)) {
        await migrate(service, manifest, url)
        migrated.add(manifest.database)
      }
    }

    const logsDir = join(dataDir, 'logs')
    mkdirSync(logsDir, { recursive: true })
    const expand = (name: string, value: string) => value
      .replace(/\$\{port:([\w-]+)\}/g, (_m, target: string) => {
        const found = ports.get(target)
        if (found === undefined) throw new Error(`${name}: no process ${target} for \${port:${target}}`)
        return String(found)
      })
      .replace(/\$\{urls:([\w-]+)\}/g, (_m, target: string) => {
        const urls = urlsOf(target)
        if (urls.length === 0) throw new Error(`${name}: no process ${target} for \${urls:${target}}`)
        return urls.join(',')
      })
    const expandAll = (name: string, vars: Record<string, string> | undefined) =>
      Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, expand(name, v)]))

    /** `like`: whose processEnv it gets (an extra instance gets its original's). */
    async function startProcess (
      service: Service, manifest: ProcessManifest, name: string, like = name, extraEnv?: Record<string, string>
    ): Promise<StartedProcess> {
      const env = {
        ...process.env,
        ...expandAll(name, manifest.env),
        ...options.env,
        PORT: String(ports.get(name)),
        HOST: '127.0.0.1',
        SERVICE_NAME: manifest.name,
        MIGRATE_ON_START: 'false',
        REDIS_URL: infra.redisUrl,
        KAFKA_BROKERS: infra.kafkaBrokers,
        ...(manifest.database ? { DATABASE_URL: new URL(`/${databaseName(manifest)}`, infra.postgresUrl).toString() } : {}),
        ...expandAll(name, options.processEnv?.[like]),
        ...expandAll(name, extraEnv)
      }
      const nodeArgs = options.nodeArgs ?? [...SERVICE_HEAP_FLAGS, '--import', '@shortfeed/common/register-telemetry']
      const url = `http://127.0.0.1:${ports.get(name)}`
      const launch = async () => {
        const child = spawnServer(name, process.execPath, entryArgs(manifest.entry, options.sources === true, nodeArgs), {
          cwd: service.dir, env, logFile: join(logsDir, `${name}.log`)
        })
        try {
          await waitUntilReady(child, async () => {
            const res = await fetch(`${url}/health/ready`)
            if (!res.ok) throw new Error(`ready answered ${res.status}`)
          }, 90_000)
        } catch (err) {
          await child.stop('SIGKILL', 1_000)
          throw err
        }
        return child
      }
      const entry: StartedProcess = {
        name,
        url,
        process: await launch(),
        async restart () {
          if (!entry.process.hasExited()) throw new Error(`${name} is still running (pid ${entry.process.pid})`)
          entry.process = await launch()
          return entry.process
        }
      }
      owned.push({ name, pid: entry.process.pid, stop: () => entry.process.stop('SIGTERM', 15_000) })
      return entry
    }

    // Processes of one start order start together; the next order waits for them to be ready.
    const started: StartedProcess[] = []
    const orders = [...new Set(instances.map((i) => i.manifest.startOrder ?? 0))].sort((a, b) => a - b)
    for (const order of orders) {
      const group = instances.filter((i) => (i.manifest.startOrder ?? 0) === order)
      const results = await Promise.allSettled(group.map(({ service, manifest, name }) => startProcess(service, manifest, name)))
      for (const result of results) if (result.status === 'fulfilled') started.push(result.value)
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    }

    let extra = 0
    launchMore = async (name, env) => {
      const original = instances.find((i) => i.name === name)
      if (!original) throw new Error(`no process named ${name}`)
      const extraName = `${name}-extra-${++extra}`
      ports.set(extraName, await freePort())
      return startProcess(original.service, original.manifest, extraName, name, env)
    }
    return started
  }

  let launchMore: Stack['launch'] = () => Promise.reject(new Error('this stack started no services'))
  try {
    const infra = await startInfrastructure()
    const processes = options.infraOnly ? [] : await startServices(infra)
    return { infra, processes, pids: owned.map(({ name, pid }) => ({ name, pid })), launch: (name, env) => launchMore(name, env), stop }
  } catch (err) {
    await stop()
    throw err
  }
}
