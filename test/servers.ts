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
      // The module's own health check runs `sh -c pg_isready` every 250 ms with a 1 s timeout: on
      // a loaded machine Docker kills the timed-out shell, its pg_isready is orphaned to PID 1,
      // which is the postmaster, and the postmaster takes the orphan's SIGPIPE death for a
      // crashed backend and restarts every session. pg_isready alone, with room, has no child.
      const c = await new PostgreSqlContainer('postgres:17-alpine')
        .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=400'])
        .withHealthCheck({ test: ['CMD', 'pg_isready', '--host', 'localhost', '--username', 'test', '--dbname', 'test'], interval: 1_000, timeout: 10_000, retries: 300 })
        .start()
      return { value: c.getConnectionUri(), stop: async () => { await c.stop() } }
    },
    redisUrl: async () => {
      const { RedisContainer } = await import('@testcontainers/redis')
      const c = await new RedisContainer('redis:7-alpine').start()
      return { value: c.getConnectionUrl(), stop: async () => { await c.stop() } }
    },
    kafkaBrokers: startKafkaContainer
  }
}

/** The image docker-compose.yml runs, so tests and the compose stack meet the same broker. */
export const KAFKA_IMAGE = 'apache/kafka:4.1.1'

/**
 * Kafka in a container, on the image compose uses. A client must reach the broker at the
 * address the broker advertises, and the host port is known only once the container runs; so
 * the container waits for a starter script that the harness writes with that port, then runs
 * the image's own entry point. (@testcontainers/kafka does the same, for Confluent's images
 * only.) Its start() would return before the broker listens: this waits until it answers.
 */
async function startKafkaContainer (): Promise<{ value: string, stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers')
  const starter = '/tmp/shortfeed-start.sh'
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts(9092)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,BROKER://:9094,CONTROLLER://:9093',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_NUM_PARTITIONS: '6',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '6',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m'
    })
    .withEntrypoint(['sh'])
    .withCommand(['-c', `echo 'waiting for the starter'; while [ ! -f ${starter} ]; do sleep 0.1; done; exec sh ${starter}`])
    .withWaitStrategy(Wait.forLogMessage('waiting for the starter'))
    .start()
  const brokers = `${container.getHost()}:${container.getMappedPort(9092)}`
  await container.copyContentToContainer([{
    content: `export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://${brokers},BROKER://localhost:9094\nexec /etc/kafka/docker/run\n`,
    target: starter
  }])
  try {
    await untilKafkaAnswers(brokers)
  } catch (err) {
    const logs = await container.logs({ tail: 40 })
    let text = ''
    for await (const chunk of logs) text += String(chunk)
    await container.stop()
    throw new Error(`${KAFKA_IMAGE} did not answer at ${brokers}: ${(err as Error).message}\n${text}`)
  }
  return { value: brokers, stop: async () => { await container.stop() } }
}

/** Until an admin client can describe the cluster (quorum formed, broker registered). */
async function untilKafkaAnswers (brokers: string, timeoutMs = 180_000): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs')
  const admin = new Kafka({ clientId: 'test-harness', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  const deadline = Date.now() + timeoutMs
  for (let last: unknown; ;) {
    try {
      await admin.connect()
      if ((await admin.describeCluster()).brokers.length > 0) return
    } catch (err) {
      last = err
    } finally {
      await admin.disconnect().catch(() => {})
    }
    if (Date.now() > deadline) throw new Error(`no answer in ${timeoutMs / 1000} s (${(last as Error | undefined)?.message ?? 'no brokers'})`)
    await new Promise((resolve) => setTimeout(resolve, 500))
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
