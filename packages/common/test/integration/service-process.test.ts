// runService as a real process: a bad environment stops it with a message naming the variable;
// a good one serves, reports readiness of real dependencies, and drains in-flight requests on
// SIGTERM before exiting.
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { after, describe, test } from 'node:test'
import { freePort } from '@shortfeed/infra'
import { createTestDatabase, eventually, testServers } from '@shortfeed/test-harness'

const fixture = new URL('../fixtures/service.ts', import.meta.url).pathname

interface Started { child: ChildProcessWithoutNullStreams, stdout: () => string, stderr: () => string, exit: Promise<number | null> }

const preload = new URL('../../src/register-telemetry.ts', import.meta.url).pathname

function startFixture (env: Record<string, string>, nodeArgs: string[] = []): Started {
  // A grace period no loaded machine runs out of: these tests check that shutdown is graceful
  // (exit 0), not how fast it is.
  const child = spawn(process.execPath, [...nodeArgs, fixture], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '60000', ...env } })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exit = once(child, 'exit').then(([code]) => code as number | null)
  after(() => { child.kill('SIGKILL') })
  return { child, stdout: () => out, stderr: () => err, exit }
}

/**
 * The first match of `pattern` in the process's output; fails at once if the process exits.
 * Starting a process (type stripping, migrations, a Kafka client) took over 30 s on two cores
 * loaded by stress-ng and a bench: the wait is bounded by the test's timeout, not a guess.
 */
const PROCESS_START_MS = 150_000
async function waitForOutput (started: Started, pattern: RegExp): Promise<RegExpMatchArray> {
  const match = await eventually(() => {
    if (started.child.exitCode !== null) throw new Error(`exited with ${started.child.exitCode} before ${pattern}.\nstdout: ${started.stdout()}\nstderr: ${started.stderr()}`)
    return started.stdout().match(pattern)
  }, (m) => m !== null, PROCESS_START_MS)
  return match!
}

async function goodEnv (): Promise<Record<string, string>> {
  const servers = await testServers()
  return {
    DATABASE_URL: await createTestDatabase('fixture'),
    REDIS_URL: servers.redisUrl,
    KAFKA_BROKERS: servers.kafkaBrokers,
    PORT: String(await freePort())
  }
}

// Per test: a start, maybe a second one, and a drain, however slowly the machine runs them.
const slow = { timeout: 2 * PROCESS_START_MS + 60_000 }

describe('a service process', () => {
  test('when a variable is missing or malformed, then it exits with code 78 naming each one', slow, async () => {
    const started = startFixture({ PORT: 'http', REDIS_URL: 'localhost:6379', KAFKA_BROKERS: 'k:9092' })
    assert.equal(await started.exit, 78)
    assert.match(started.stderr(), /Invalid configuration for fixture/)
    assert.match(started.stderr(), /DATABASE_URL: is required/)
    assert.match(started.stderr(), /PORT: must be integer \(got "http"\)/)
    assert.match(started.stderr(), /REDIS_URL: must match pattern/)
  })

  test('when production runs with the development secret, then it refuses to start', slow, async () => {
    const started = startFixture({ ...await goodEnv(), NODE_ENV: 'production' })
    assert.equal(await started.exit, 78)
    assert.match(started.stderr(), /FIXTURE_SECRET: must be set to a real secret in production/)
  })

  test('when configured, then it migrates, serves, is ready, and drains an in-flight request on SIGTERM', slow, async () => {
    const env = await goodEnv()
    const started = startFixture(env)
    await waitForOutput(started, /listening/)
    const base = `http://127.0.0.1:${env['PORT']}`

    // Each probe has a 1 s deadline, which a loaded machine can miss once: ready is what it settles on.
    const ready = await eventually(async () => await (await fetch(`${base}/health/ready`)).json() as { status: string }, (body) => body.status === 'ok')
    assert.deepEqual(ready, { status: 'ok', checks: { postgres: 'up', redis: 'up', kafka: 'up' } })

    const inFlight = fetch(`${base}/slow`)
    await waitForOutput(started, /slow request started/)
    started.child.kill('SIGTERM')
    const response = await inFlight
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { notes: 0 })
    const code = await started.exit
    if (code !== 0) console.log(started.stdout().slice(-3000))
    assert.equal(code, 0)
    await assert.rejects(fetch(`${base}/health/live`))
  })

  test('started with the telemetry preload and no collector, then it serves metrics and does not trace', slow, async () => {
    const env = await goodEnv()
    const started = startFixture({ ...env, OTEL_SERVICE_NAME: 'fixture' }, ['--import', preload])
    await waitForOutput(started, /listening/)
    const base = `http://127.0.0.1:${env['PORT']}`
    const metrics = await fetch(`${base}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(await metrics.text(), /target_info\{[^}]*service_name="fixture"/)
    assert.deepEqual(await (await fetch(`${base}/telemetry`)).json(), { tracing: false, metrics: true })
    started.child.kill('SIGTERM')
    assert.equal(await started.exit, 0)
  })

  test('started with the telemetry preload and a collector, then it traces', slow, async () => {
    const env = await goodEnv()
    // Nothing listens there and nothing is sampled: the provider is registered all the same.
    const collector = `http://127.0.0.1:${await freePort()}`
    const started = startFixture({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector, OTEL_TRACES_SAMPLER: 'always_off' }, ['--import', preload])
    await waitForOutput(started, /listening/)
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${env['PORT']}/telemetry`)).json(), { tracing: true, metrics: true })
    started.child.kill('SIGTERM')
    assert.equal(await started.exit, 0)
  })

  test('when Redis is unreachable, then it still starts and readiness names redis as down', slow, async () => {
    const env: Record<string, string> = { ...await goodEnv(), REDIS_URL: `redis://127.0.0.1:${await freePort()}` }
    const started = startFixture(env)
    await waitForOutput(started, /listening/)
    const probe = async () => {
      const res = await fetch(`http://127.0.0.1:${env['PORT']}/health/ready`)
      return { status: res.status, checks: (await res.json() as { checks: Record<string, string> }).checks }
    }
    const body = await eventually(probe, (answer) => answer.checks['postgres'] === 'up')
    assert.equal(body.status, 503)
    assert.match(body.checks['redis'] ?? '', /^down/)
    started.child.kill('SIGTERM')
    assert.equal(await started.exit, 0)
  })
})
