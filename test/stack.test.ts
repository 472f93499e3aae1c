// `pnpm stack` from the outside: it brings the infrastructure (and any declared services) up,
// says where everything listens, and on Ctrl-C stops all of it, leaving no process behind.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { eventually } from './harness.ts'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Its own deadline governs, not the suite's 2-minute default: 7 minutes to ready, because on a
// fresh clone the stack first compiles the whole tree (`tsc -b`), and on a loaded machine that
// and a second Kafka's JVM are slow. The bound only ends a stack that will never be ready.
test('when the stack is started and then interrupted, then everything answers and then nothing is left running', { timeout: 600_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stack-test-'))
  chmodSync(dataDir, 0o755)
  after(() => { rmSync(dataDir, { recursive: true, force: true }) })
  const env = { ...process.env }
  for (const variable of ['POSTGRES_URL', 'REDIS_URL', 'KAFKA_BROKERS']) delete env[variable]
  const stack = spawn(process.execPath, [new URL('../infra/stack.ts', import.meta.url).pathname, '--data-dir', dataDir, '--any-ports'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  stack.stdout.on('data', (d: Buffer) => { output += d.toString() })
  stack.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(stack, 'exit')
  // On failure, stop it as a user would (Ctrl-C): SIGKILL would leave its services and servers
  // running as orphans. SIGKILL only if it has not finished within a minute.
  after(async () => {
    if (stack.exitCode !== null || stack.signalCode !== null) return
    stack.kill('SIGINT')
    const timer = setTimeout(() => { stack.kill('SIGKILL') }, 60_000)
    await exited
    clearTimeout(timer)
  })

  const deadline = Date.now() + 420_000
  while (!/ready in/.test(output)) {
    assert.ok(stack.exitCode === null, `stack exited early:\n${output}`)
    assert.ok(Date.now() < deadline, `stack not ready:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const postgresUrl = output.match(/postgres\s+(postgres:\/\/\S+)/)?.[1]
  const redisUrl = output.match(/redis\s+(redis:\/\/\S+)/)?.[1]
  const kafkaBrokers = output.match(/kafka\s+(\S+:\d+)/)?.[1]
  assert.ok(postgresUrl && redisUrl && kafkaBrokers, output)

  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1)
  await client.end()
  const redis = new Redis(redisUrl)
  assert.equal(await redis.ping(), 'PONG')
  redis.disconnect()
  const admin = new Kafka({ clientId: 'stack-test', brokers: [kafkaBrokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  assert.equal((await admin.describeCluster()).brokers.length, 1)
  await admin.disconnect()

  // Every service the stack declares answers on its printed URL.
  for (const [, url] of output.matchAll(/\[stack\] \S+\s+(http:\/\/127\.0\.0\.1:\d+)/g)) {
    await eventually(async () => (await fetch(`${url}/health/ready`)).status, (status) => status === 200)
  }

  // They run the JavaScript tsc emitted, as production does, not the TypeScript sources.
  const servicePids = [...output.matchAll(/\[stack\] \S+\s+http:\/\/\S+\s+\(pid (\d+)/g)].map((m) => m[1])
  assert.ok(servicePids.length >= 5, output)
  for (const pid of servicePids) assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /--conditions=shortfeed-dist\0.*\0dist\/src\/[\w-]+\.js\0$/)

  const pids = [...(output.match(/pids (.*)/)?.[1] ?? '').matchAll(/=(\d+)/g)].map((m) => Number(m[1]))
  assert.ok(pids.length >= 3, output)
  for (const pid of pids) assert.ok(alive(pid))

  stack.kill('SIGINT')
  const [code] = await exited
  assert.equal(code, 0, output)
  for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} survived the stack`)
})
