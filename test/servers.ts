// Where the tests' Postgres, Redis and Kafka come from, in this order: URLs from the
// environment (TEST_POSTGRES_URL, TEST_REDIS_URL, TEST_KAFKA_BROKERS); Testcontainers when a
// container runtime answers; otherwise native servers on free loopback ports.
// TEST_SERVERS=native|containers forces a provider.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startNativeKafka, startNativePostgres, startNativeRedis } from '@shortfeed/infra'

export interface TestServers {
  postgresUrl: string
  redisUrl: string
  kafkaBrokers: string
}

export interface StartedServers {
  servers: TestServers
  provider: string
  stop: () => Promise<void>
}

export const ServerEnv = {
  postgresUrl: 'TEST_POSTGRES_URL',
  redisUrl: 'TEST_REDIS_URL',
  kafkaBrokers: 'TEST_KAFKA_BROKERS'
} as const

type Starter = () => Promise<{ value: string, stop: () => Promise<void> }>

async function containerRuntimeAnswers (): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

function containerStarters (): Record<keyof TestServers, Starter> {
  return {
    postgresUrl: async () => {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
      const c = await new PostgreSqlContainer('postgres:17-alpine').withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=400']).start()
      return { value: c.getConnectionUri(), stop: async () => { await c.stop() } }
    },
    redisUrl: async () => {
      const { RedisContainer } = await import('@testcontainers/redis')
      const c = await new RedisContainer('redis:7-alpine').start()
      return { value: c.getConnectionUrl(), stop: async () => { await c.stop() } }
    },
    kafkaBrokers: async () => {
      const { KafkaContainer } = await import('@testcontainers/kafka')
      // Confluent Platform 8.0 is Apache Kafka 4.0 in KRaft mode.
      const c = await new KafkaContainer('confluentinc/cp-kafka:8.0.0').withEnvironment({ KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' }).start()
      return { value: `${c.getHost()}:${c.getMappedPort(9093)}`, stop: async () => { await c.stop() } }
    }
  }
}

function nativeStarters (baseDir: string): Record<keyof TestServers, Starter> {
  return {
    postgresUrl: async () => {
      const pg = await startNativePostgres({ dir: join(baseDir, 'postgres'), port: await freePort() })
      return { value: pg.url, stop: pg.stop }
    },
    redisUrl: async () => {
      const redis = await startNativeRedis({ dir: join(baseDir, 'redis'), port: await freePort() })
      return { value: redis.url, stop: redis.stop }
    },
    kafkaBrokers: async () => {
      const kafka = await startNativeKafka({ dir: join(baseDir, 'kafka'), port: await freePort(), controllerPort: await freePort() })
      return { value: kafka.brokers, stop: kafka.stop }
    }
  }
}

export async function startTestServers (env: NodeJS.ProcessEnv = process.env): Promise<StartedServers> {
  const keys = Object.keys(ServerEnv) as Array<keyof TestServers>
  const missing = keys.filter((k) => !env[ServerEnv[k]])
  const forced = env['TEST_SERVERS']
  if (forced && forced !== 'native' && forced !== 'containers') throw new Error(`TEST_SERVERS must be native or containers, got ${forced}`)

  let provider = 'environment'
  let starters: Record<keyof TestServers, Starter> | undefined
  let baseDir: string | undefined
  if (missing.length > 0) {
    const useContainers = forced === 'containers' || (forced !== 'native' && await containerRuntimeAnswers())
    if (useContainers) {
      provider = 'testcontainers'
      starters = containerStarters()
    } else {
      provider = 'native'
      baseDir = mkdtempSync(join(tmpdir(), 'shortfeed-test-'))
      // The postgres user must reach its data directory when we run as root.
      chmodSync(baseDir, 0o755)
      starters = nativeStarters(baseDir)
    }
  }

  const stops: Array<() => Promise<void>> = []
  const servers = {} as TestServers
  const results = await Promise.allSettled(keys.map(async (k) => {
    const given = env[ServerEnv[k]]
    if (given) { servers[k] = given; return }
    const started = await starters![k]()
    stops.push(started.stop)
    servers[k] = started.value
  }))
  const stop = async () => {
    await Promise.allSettled(stops.map((s) => s()))
    if (baseDir) rmSync(baseDir, { recursive: true, force: true })
  }
  const failure = results.find((r) => r.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  if (baseDir) {
    // The runner may exit without a teardown (`--test-force-exit` skips it): the servers are
    // SIGKILLed by infra/native's exit hook, registered before this one, and their data goes.
    const dir = baseDir
    process.once('exit', () => { rmSync(dir, { recursive: true, force: true }) })
  }
  return { servers, provider, stop }
}
