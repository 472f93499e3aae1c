// A real single-node Apache Kafka 4.x broker in KRaft mode from Maven Central jars (see
// infra/kafka/pom.xml): storage formatted, a small heap, ready once a client can create a topic.
// Start-up is retried because quorum formation can time out on a loaded machine.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { MissingBinaryError, requireBinary } from './binaries.ts'
import { spawnServer, waitUntilReady, type ServerProcess } from './process.ts'

const run = promisify(execFile)
const kafkaDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'kafka')
export const kafkaLibsDir = join(kafkaDir, 'target', 'libs')

export interface NativeKafka {
  /** host:port, as KAFKA_BROKERS takes it. */
  brokers: string
  port: number
  process: ServerProcess
  stop: () => Promise<void>
}

/** Fetches the broker's jars with Maven once; later calls find them in place. */
export async function ensureKafkaJars (): Promise<string> {
  const hasJars = existsSync(kafkaLibsDir) && readdirSync(kafkaLibsDir).some((f) => f.startsWith('kafka_2.13-'))
  if (hasJars) return kafkaLibsDir
  requireBinary('java', 'Kafka needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless), or give TEST_KAFKA_BROKERS.')
  const mvn = requireBinary('mvn', 'Maven fetches the Kafka jars (Debian: apt-get install maven), or give TEST_KAFKA_BROKERS.')
  try {
    await run(mvn, ['-q', '-B', '-f', join(kafkaDir, 'pom.xml'), 'dependency:copy-dependencies'], { maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    throw new MissingBinaryError(`mvn could not fetch the Kafka jars: ${(err as { stdout?: string }).stdout ?? (err as Error).message}`)
  }
  return kafkaLibsDir
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as Kafka's Uuid prints it. */
export function randomClusterId (): string {
  return randomBytes(16).toString('base64url')
}

function serverProperties (dataDir: string, port: number, controllerPort: number, advertisedPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=6',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    'log.retention.hours=24',
    ''
  ].join('\n')
}

const log4jConfig = `Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
`

export interface KafkaStartOptions {
  dir: string
  port: number
  controllerPort: number
  /**
   * The port clients are told to use after bootstrap (default: port). A proxy in front of the
   * broker (fault tests) listens there, so clients keep going through it.
   */
  advertisedPort?: number
  attempts?: number
}

export async function startNativeKafka (options: KafkaStartOptions): Promise<NativeKafka> {
  const libs = await ensureKafkaJars()
  const java = requireBinary('java', 'Kafka needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless).')
  const classpath = `${libs}/*`
  const dataDir = join(options.dir, 'data')
  const configFile = join(options.dir, 'server.properties')
  const log4jFile = join(options.dir, 'log4j2.yaml')
  mkdirSync(options.dir, { recursive: true })
  writeFileSync(configFile, serverProperties(dataDir, options.port, options.controllerPort, options.advertisedPort ?? options.port))
  writeFileSync(log4jFile, log4jConfig)
  const jvm = [
    '-Xms128m', '-Xmx384m', '-XX:+UseSerialGC',
    `-Dlog4j2.configurationFile=${log4jFile}`, '-Djava.awt.headless=true',
    '-cp', classpath
  ]

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    try {
      // "=" keeps an id that starts with "-" (1 in 64 base64url ids) from reading as an option.
      await run(java, [
        ...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${randomClusterId()}`, '-c', configFile, '--ignore-formatted'
      ])
    } catch (err) {
      throw new Error(`kafka storage format failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`)
    }
  }

  const brokers = `127.0.0.1:${options.advertisedPort ?? options.port}`
  const attempts = options.attempts ?? 3
  for (let attempt = 1; ; attempt++) {
    const server = spawnServer('kafka', java, [...jvm, 'kafka.Kafka', configFile], {
      logFile: join(options.dir, 'kafka.log'),
      cwd: options.dir
    })
    try {
      await waitUntilReady(server, () => createProbeTopic(brokers), 90_000)
      return { brokers, port: options.port, process: server, stop: () => server.stop('SIGTERM', 20_000) }
    } catch (err) {
      await server.stop('SIGKILL', 1_000)
      if (attempt >= attempts) throw err
    }
  }
}

/** Ready means a client can create (or find) a topic: metadata, controller and log dirs all work. */
async function createProbeTopic (brokers: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'shortfeed-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 }
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.createTopics({
      topics: [{ topic: '__shortfeed_ready', numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 5_000
    })
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
