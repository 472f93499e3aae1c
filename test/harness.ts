// What a test file imports to reach real servers: their URLs (started once per run by the
// global setup, or on demand when a single file runs alone), a fresh database per test, and
// unique names so tests run in parallel against one set of servers.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import { ensureDatabase, freePort } from '@shortfeed/infra'
import { Kafka, logLevel } from 'kafkajs'
import { ServerEnv, startTestServers, type TestServers } from './servers.ts'

export type { TestServers } from './servers.ts'

let pending: Promise<TestServers> | undefined

/** The servers for this run; a file run on its own (node --test file.ts) starts its own. */
export function testServers (): Promise<TestServers> {
  pending ??= (async () => {
    const fromEnv = {
      postgresUrl: process.env[ServerEnv.postgresUrl],
      redisUrl: process.env[ServerEnv.redisUrl],
      kafkaBrokers: process.env[ServerEnv.kafkaBrokers]
    }
    if (fromEnv.postgresUrl && fromEnv.redisUrl && fromEnv.kafkaBrokers) return fromEnv as TestServers
    const started = await startTestServers()
    process.once('beforeExit', () => { void started.stop() })
    return started.servers
  })()
  return pending
}

/** A short unique name: lowercase letters, digits and underscores (safe as a DB or topic name). */
export function uniqueName (prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

/**
 * A new consumer group (named from `prefix`) whose offsets are committed at the current end of
 * each topic that exists, so it handles what is published from now on rather than everything
 * the other test files put on the shared topics before it. A fresh notifier group once had to
 * work through other files' follows first; with its users API down on purpose, each of them
 * waited in the outage loop and the file's events never came. A test that resumes a group it
 * named keeps that group's offsets instead.
 */
export async function newGroupAtEnd (prefix: string, topics: readonly string[]): Promise<string> {
  const groupId = uniqueName(prefix)
  const { kafkaBrokers } = await testServers()
  const admin = new Kafka({ clientId: 'test-harness', brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    for (const topic of topics.filter((t) => existing.has(t))) {
      const ends = await admin.fetchTopicOffsets(topic)
      await admin.setOffsets({ groupId, topic, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) })
    }
  } finally {
    await admin.disconnect()
  }
  return groupId
}

/** A new empty database on the test Postgres; returns its URL. */
export async function createTestDatabase (prefix = 'test'): Promise<string> {
  const { postgresUrl } = await testServers()
  return ensureDatabase(postgresUrl, uniqueName(prefix))
}

/**
 * Polls `probe` until `accept` holds (async systems: consumers, relays); throws with the last
 * value. The timeout only bounds a failure: on a loaded machine a consumer group can take many
 * seconds to join, so it is generous, and no test reads meaning into how long a wait took.
 */
export async function eventually<T> (probe: () => T | Promise<T>, accept: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (accept(value)) return value
    if (Date.now() > deadline) throw new Error(`condition not met in time; last value ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A counter's value from an app's GET /metrics (summed over labels); take deltas, the process is shared. */
export async function metricCounter (app: { inject: (options: { url: string }) => Promise<{ body: string }> }, name: string): Promise<number> {
  const { body } = await app.inject({ url: '/metrics' })
  let total = 0
  for (const line of body.split('\n')) {
    if (line.startsWith(`${name}_total`)) total += Number(line.split(' ').at(-1))
  }
  return total
}

export interface ServiceProcessOptions {
  dir: string
  entry?: string
  env: Record<string, string>
  /** Adds the production telemetry preload. */
  preload?: boolean
  /** A port chosen beforehand (e.g. one another service must know); a free one otherwise. */
  port?: number
  /** Receives everything the process writes (stdout and stderr), e.g. to inspect its logs. */
  onOutput?: (text: string) => void
}

// A test file that times out is ended before its after hooks run: the services it started must
// not outlive it.
const serviceProcesses = new Set<ChildProcess>()
process.once('exit', () => { for (const child of serviceProcesses) child.kill('SIGKILL') })

/**
 * Starts services/<dir>/<entry> as a real process (killed after the file) and resolves with
 * its base URL once /health/ready answers.
 */
export async function startServiceProcess (options: ServiceProcessOptions): Promise<string> {
  const port = options.port ?? await freePort()
  const args = [...(options.preload ? ['--import', '@shortfeed/common/register-telemetry'] : []), options.entry ?? 'src/server.ts']
  const child = spawn(process.execPath, args, {
    cwd: new URL(`../services/${options.dir}/`, import.meta.url).pathname,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...options.env, PORT: String(port) },
    stdio: ['ignore', options.onOutput ? 'pipe' : 'ignore', options.onOutput ? 'pipe' : 'inherit']
  })
  const onOutput = options.onOutput
  if (onOutput) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => { onOutput(chunk.toString()) })
  }
  after(() => { child.kill('SIGTERM') })
  serviceProcesses.add(child)
  child.once('exit', () => { serviceProcesses.delete(child) })
  const url = `http://127.0.0.1:${port}`
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`${options.dir}/${options.entry ?? 'src/server.ts'} exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return url
    } catch {}
    if (Date.now() > deadline) throw new Error(`${options.dir} not ready after 60 s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
