// A whole Shortfeed of its own for the fault tests: Postgres, Redis and Kafka started here (not
// the servers `pnpm test` shares between files, which must not be frozen or killed under them),
// each behind a fault proxy, and every service as a real process through startStack, the
// gateway reaching each upstream through a fault proxy too. The tests get handles to stop,
// kill, freeze, thaw and restart each server and service, direct clients for checking what was
// stored, and the services' metrics.
//
// Starting it takes a minute or more (Kafka most of it), so the fault files share one stack:
// they run in one process, one after another (--test-isolation=none, see package.json
// test:faults), each case on its own users and links, and each leaves the stack healthy.
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import {
  freePort, startNativeKafka, startNativePostgres, startNativeRedis,
  type NativeKafka, type NativePostgres, type NativeRedis
} from '@shortfeed/infra'
import { startStack, type Stack, type StartedProcess } from '@shortfeed/infra/stack'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts'

export interface InfraServer {
  name: string
  /** Every service reaches the server through this proxy. */
  proxy: FaultProxy
  /** Graceful stop (what an operator or a crash-free restart does). */
  stop: () => Promise<void>
  /** SIGKILL to the whole process group: no shutdown, like a machine losing power. */
  kill: () => Promise<void>
  /** Starts it again on the same port with the same data (Redis keeps none: it comes back empty). */
  start: () => Promise<void>
  /** SIGSTOP: the process stays, connections stay open, nothing answers. */
  freeze: () => void
  thaw: () => void
}

export interface TopicMessage { partition: number, offset: string, key: string | null, eventId: string | undefined }

export type ServiceName = 'gateway' | 'shortener' | 'timeline' | 'timeline-fanout' | 'notifier'

export interface FaultStack {
  gatewayUrl: string
  postgres: InfraServer
  redis: InfraServer
  kafka: InfraServer
  service: (name: ServiceName) => StartedProcess
  /** The proxies between the gateway and each upstream service. */
  upstreamProxy: (name: 'shortener' | 'timeline' | 'notifier') => FaultProxy
  /** Waits until every service answers ready (every fault healed, every process up). */
  ready: (timeoutMs?: number) => Promise<void>
  /** Messages of a topic that a consumer group has not committed (what it would be sent again). */
  uncommitted: (groupId: string, topic: string) => Promise<number>
  /** Every message of a topic, read from the beginning to its current end. */
  topicMessages: (topic: string) => Promise<TopicMessage[]>
  /** A pool on a service's database, straight to Postgres (not through the proxy). */
  db: (database: 'timeline' | 'shortener' | 'notifier') => pg.Pool
  /** A Redis client straight to the server. */
  redisClient: Redis
  /** A counter from a service's GET /metrics, summed over its labels. */
  counter: (service: ServiceName, name: string) => Promise<number>
  stop: () => Promise<void>
}

export interface FaultStackOptions {
  /** Environment per process name, on top of the defaults below. */
  processEnv?: Partial<Record<ServiceName, Record<string, string>>>
  log?: (line: string) => void
}

/**
 * What every fault stack sets: limits that never refuse the test's own load (the limiter still
 * runs, so its fail-open path is exercised), notifications that are never folded into one (so
 * each can be counted), and quiet logs.
 */
const defaultProcessEnv: Record<ServiceName, Record<string, string>> = {
  gateway: { RATE_LIMIT_REDIRECT: '1000000000/1', RATE_LIMIT_READ: '1000000000/1', RATE_LIMIT_WRITE: '1000000000/1', RATE_LIMIT_LOGIN: '1000000000/1' },
  shortener: {},
  timeline: {},
  'timeline-fanout': {},
  notifier: { GROUP_AFTER: '1000000' }
}

function infraServer<T extends { process: { stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>, signalGroup: (signal: NodeJS.Signals) => void, hasExited: () => boolean }, stop: () => Promise<void> }> (
  name: string, proxy: FaultProxy, launch: () => Promise<T>, first: T
): InfraServer {
  let current = first
  return {
    name,
    proxy,
    stop: () => current.stop(),
    async kill () {
      current.process.signalGroup('SIGKILL')
      await current.process.stop('SIGKILL', 5_000)
    },
    async start () {
      if (!current.process.hasExited()) throw new Error(`${name} is still running`)
      current = await launch()
    },
    freeze: () => { current.process.signalGroup('SIGSTOP') },
    thaw: () => { current.process.signalGroup('SIGCONT') }
  }
}

export async function startFaultStack (options: FaultStackOptions = {}): Promise<FaultStack> {
  const log = options.log ?? (() => {})
  const dataDir = mkdtempSync(join(tmpdir(), 'shortfeed-faults-'))
  // The postgres user must reach its data directory when the tests run as root.
  chmodSync(dataDir, 0o755)
  const [pgPort, redisPort, kafkaPort, controllerPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const proxies = {
    postgres: await startFaultProxy({ target: pgPort }),
    redis: await startFaultProxy({ target: redisPort }),
    kafka: await startFaultProxy({ target: kafkaPort })
  }
  // Postgres is killed here, so an acknowledged commit must survive that, as in production.
  const launchPostgres = () => startNativePostgres({ dir: join(dataDir, 'postgres'), port: pgPort, durableCommits: true })
  const launchRedis = () => startNativeRedis({ dir: join(dataDir, 'redis'), port: redisPort })
  // Clients learn the broker's address from its metadata: it must name the proxy, or they
  // would bypass it after bootstrap.
  const launchKafka = () => startNativeKafka({ dir: join(dataDir, 'kafka'), port: kafkaPort, controllerPort, advertisedPort: proxies.kafka.port })
  const servicePorts = { shortener: await freePort(), timeline: await freePort(), notifier: await freePort() }
  const upstreamProxies = {
    shortener: await startFaultProxy({ target: servicePorts.shortener }),
    timeline: await startFaultProxy({ target: servicePorts.timeline }),
    notifier: await startFaultProxy({ target: servicePorts.notifier })
  }

  let stack: Stack | undefined
  const cleanups: Array<() => Promise<void>> = []
  const stopAll = async () => {
    await stack?.stop()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
    // FAULT_KEEP_DATA=1 keeps the servers' data and every service's log (logs/) for a post-mortem.
    if (process.env['FAULT_KEEP_DATA'] === '1') log(`data and logs kept in ${dataDir}`)
    else rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    const [postgres, redis, kafka] = await Promise.all([launchPostgres(), launchRedis(), launchKafka()]) as [NativePostgres, NativeRedis, NativeKafka]
    const servers = {
      postgres: infraServer('postgres', proxies.postgres, launchPostgres, postgres),
      redis: infraServer('redis', proxies.redis, launchRedis, redis),
      kafka: infraServer('kafka', proxies.kafka, launchKafka, kafka)
    }
    for (const server of Object.values(servers)) {
      cleanups.push(async () => { server.thaw(); await server.stop() })
    }
    for (const proxy of [...Object.values(proxies), ...Object.values(upstreamProxies)]) cleanups.push(() => proxy.close())

    const processEnv: Record<string, Record<string, string>> = {}
    for (const name of Object.keys(defaultProcessEnv) as ServiceName[]) {
      processEnv[name] = { ...defaultProcessEnv[name], ...options.processEnv?.[name] }
    }
    processEnv['gateway'] = {
      ...processEnv['gateway'],
      UPSTREAM_SHORTENER: `http://127.0.0.1:${upstreamProxies.shortener.port}`,
      UPSTREAM_TIMELINE: `http://127.0.0.1:${upstreamProxies.timeline.port}`,
      UPSTREAM_NOTIFIER: `http://127.0.0.1:${upstreamProxies.notifier.port}`
    }
    stack = await startStack({
      dataDir,
      anyPorts: true,
      ports: servicePorts,
      given: {
        postgresUrl: `postgres://postgres@127.0.0.1:${proxies.postgres.port}/postgres`,
        redisUrl: `redis://127.0.0.1:${proxies.redis.port}`,
        kafkaBrokers: `127.0.0.1:${proxies.kafka.port}`
      },
      env: { LOG_LEVEL: 'warn' },
      processEnv,
      log
    })
    const started = stack
    const service = (name: ServiceName) => {
      const found = started.processes.find((p) => p.name === name)
      if (!found) throw new Error(`no process ${name} in the stack`)
      return found
    }

    const pools = new Map<string, pg.Pool>()
    cleanups.push(async () => { await Promise.all([...pools.values()].map((p) => p.end())) })
    const redisClient = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 })
    redisClient.on('error', () => {})
    cleanups.push(async () => { redisClient.disconnect() })

    const kafkaClient = new Kafka({ clientId: 'fault-tests', brokers: [`127.0.0.1:${kafkaPort}`], logLevel: logLevel.NOTHING })

    return {
      gatewayUrl: service('gateway').url,
      ...servers,
      service,
      upstreamProxy: (name) => upstreamProxies[name],
      async ready (timeoutMs = 120_000) {
        const deadline = Date.now() + timeoutMs
        for (const p of started.processes) {
          for (;;) {
            const status = await fetch(`${p.url}/health/ready`).then((r) => r.status, () => 0)
            if (status === 200) break
            if (Date.now() > deadline) throw new Error(`${p.name} not ready after ${timeoutMs} ms (last answer ${status})`)
            await new Promise((resolve) => setTimeout(resolve, 250))
          }
        }
      },
      async uncommitted (groupId, topic) {
        const admin = kafkaClient.admin()
        await admin.connect()
        try {
          const ends = await admin.fetchTopicOffsets(topic)
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
          let total = 0
          for (const end of ends) {
            const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1'
            total += Number(end.high) - (at === '-1' ? Number(end.low) : Number(at))
          }
          return total
        } finally {
          await admin.disconnect()
        }
      },
      async topicMessages (topic) {
        const admin = kafkaClient.admin()
        await admin.connect()
        const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
        const remaining = new Set(ends.filter((e) => e.high !== e.low).map((e) => e.partition))
        const messages: TopicMessage[] = []
        if (remaining.size === 0) return messages
        const consumer = kafkaClient.consumer({ groupId: `fault-tests-${randomUUID()}` })
        await consumer.connect()
        try {
          await consumer.subscribe({ topics: [topic], fromBeginning: true })
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => { reject(new Error(`${topic} not read to its end in 60 s`)) }, 60_000)
            consumer.run({
              eachMessage: async ({ partition, message }) => {
                messages.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, eventId: message.headers?.['event-id']?.toString() })
                const high = BigInt(ends.find((e) => e.partition === partition)!.high)
                if (BigInt(message.offset) + 1n >= high) remaining.delete(partition)
                if (remaining.size === 0) { clearTimeout(timer); resolve() }
              }
            }).catch(reject)
          })
        } finally {
          await consumer.disconnect()
        }
        return messages
      },
      db (database) {
        let pool = pools.get(database)
        if (!pool) {
          pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${pgPort}/${database}`, max: 2, connectionTimeoutMillis: 5_000 })
          pool.on('error', () => {})
          pools.set(database, pool)
        }
        return pool
      },
      redisClient,
      async counter (name, metric) {
        const body = await (await fetch(`${service(name).url}/metrics`)).text()
        let total = 0
        for (const line of body.split('\n')) {
          if (line.startsWith(`${metric}_total`)) total += Number(line.split(' ').at(-1))
        }
        return total
      },
      stop: stopAll
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

let shared: Promise<FaultStack> | undefined

/**
 * The stack every fault file shares: started by the first file that asks, stopped after the
 * last test of the run. The files run in one process (--test-isolation=none), where a hook
 * registered outside any test belongs to the run's root and runs once everything is done.
 */
export function sharedFaultStack (): Promise<FaultStack> {
  if (!shared) {
    const t0 = Date.now()
    const log = (line: string) => { process.stdout.write(`[fault-stack] ${line}\n`) }
    shared = startFaultStack({ log }).then((stack) => {
      log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      return stack
    })
    after(async () => {
      const stack = await shared?.catch(() => undefined)
      shared = undefined
      await stack?.stop()
      // Leaving the event loop to drain on its own, this process hung at exit, inside Node's
      // cleanup of its handles (seen with gdb: uv_run spinning in CleanupHandles), after every
      // test had passed. Give the runner a moment to report, then exit with its exit code.
      setTimeout(() => { process.exit() }, 3_000)
    })
  }
  return shared
}
