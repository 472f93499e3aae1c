// Builds the shortener in-process against the harness's real servers, each app with its own
// database, permutation key and aggregator group so tests run in parallel without sharing
// codes or clicks. Telemetry starts before any app is built, so the instruments each app makes
// (src/metrics.ts) record to the provider behind GET /metrics.
import { randomBytes } from 'node:crypto'
import { after, type TestContext } from 'node:test'
import { loadConfig, signIdentity } from '@shortfeed/common'
import { startTelemetry } from '@shortfeed/common/telemetry'
import { createTestDatabase, eventually, metricCounter as counter, testServers, uniqueName } from '@shortfeed/test-harness'

startTelemetry({ serviceName: 'shortener-test' })
const { buildApp } = await import('../src/app.ts')
const { ShortenerConfig, ClicksConfig } = await import('../src/config.ts')
const { buildClicksApp } = await import('../src/clicks-app.ts')

export const INTERNAL_AUTH_SECRET = 'test-internal-auth-secret-0123456789'

async function testEnv (overrides: Record<string, string>): Promise<Record<string, string>> {
  const servers = await testServers()
  return {
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    DATABASE_URL: await createTestDatabase('shortener'),
    REDIS_URL: servers.redisUrl,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    INTERNAL_AUTH_SECRET,
    CODE_PERMUTATION_KEY: randomBytes(16).toString('hex'),
    CLICK_AGGREGATOR_GROUP: uniqueName('aggregator'),
    CLICK_FLUSH_INTERVAL_MS: '20',
    PUBLIC_BASE_URL: 'http://sho.rt',
    ...overrides
  }
}

export async function testConfig (overrides: Record<string, string> = {}) {
  return loadConfig('shortener', ShortenerConfig, await testEnv(overrides))
}

/**
 * The API and the click aggregator as separate apps on one database and consumer group, as the
 * stack runs them (shortener + shortener-clicks), for a whole test file.
 */
export async function buildWithClicksWorkerForFile (overrides: Record<string, string> = {}) {
  const env = await testEnv({ ...overrides, CLICK_AGGREGATOR_ENABLED: 'false' })
  const app = await buildApp(loadConfig('shortener', ShortenerConfig, env))
  const worker = await buildClicksApp(loadConfig('shortener-clicks', ClicksConfig, env))
  after(async () => { await worker.close(); await app.close() })
  return { app, worker }
}

export async function build (t: TestContext, overrides: Record<string, string> = {}) {
  const app = await buildApp(await testConfig(overrides))
  t.after(() => app.close())
  return app
}

/** One app for a whole test file (tests still create their own data with unique names). */
export async function buildForFile (overrides: Record<string, string> = {}) {
  const app = await buildApp(await testConfig(overrides))
  after(() => app.close())
  return app
}

/** Headers the gateway would add for this user. */
export function asUser (userId: string): Record<string, string> {
  return signIdentity(INTERNAL_AUTH_SECRET, userId)
}

export { buildApp, counter, eventually, uniqueName }
