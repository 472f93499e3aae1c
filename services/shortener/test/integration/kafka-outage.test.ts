// When Kafka goes away: redirects are unaffected and the clicks that cannot be published are
// counted as dropped. Uses a broker of its own so the shared one stays up.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort, startNativeKafka } from '@shortfeed/infra'
import { buildApp, counter, eventually, testConfig } from '../helper.ts'

test('when Kafka stops, then redirects keep working and dropped clicks are counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shortener-kafka-outage-'))
  chmodSync(dir, 0o755)
  const kafka = await startNativeKafka({ dir, port: await freePort(), controllerPort: await freePort() })
  after(async () => { await kafka.stop(); rmSync(dir, { recursive: true, force: true }) })
  const app = await buildApp(await testConfig({ KAFKA_BROKERS: kafka.brokers, CLICK_AGGREGATOR_ENABLED: 'false' }))
  after(() => app.close())

  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/offline' } })).json()
  await kafka.stop()
  const dropped = await counter(app, 'shortener_clicks_dropped')

  for (let i = 0; i < 20; i++) {
    const started = Date.now()
    const res = await app.inject({ url: `/${code}` })
    assert.equal(res.statusCode, 302)
    // Waiting on Kafka would cost at least its 1 s connection timeout; a busy machine costs less.
    assert.ok(Date.now() - started < 1_000, 'a redirect never waits for Kafka')
  }
  await eventually(async () => await counter(app, 'shortener_clicks_dropped') - dropped, (n) => n === 20, 30_000)
})

test('when Kafka is down at start, then the service starts degraded, serves redirects, and heals when Kafka comes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shortener-kafka-late-'))
  chmodSync(dir, 0o755)
  const ports = { port: await freePort(), controllerPort: await freePort() }
  const started = Date.now()
  const app = await buildApp(await testConfig({ KAFKA_BROKERS: `127.0.0.1:${ports.port}`, KAFKA_START_WAIT_MS: '500' }))
  after(() => app.close())
  assert.ok(Date.now() - started < 15_000, 'start-up did not wait for the broker')

  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/late' } })).json()
  assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
  const ready = await app.inject({ url: '/health/ready' })
  assert.equal(ready.statusCode, 503)
  assert.match(ready.json().checks.kafka, /^down/)

  const kafka = await startNativeKafka({ dir, ...ports })
  after(async () => { await kafka.stop(); rmSync(dir, { recursive: true, force: true }) })
  await eventually(async () => (await app.inject({ url: '/health/ready' })).statusCode, (s) => s === 200, 60_000)
  // Clicks sent before the click producer reconnects are dropped (and counted); keep clicking
  // until the aggregator, which joined in the background, counts them.
  await eventually(async () => {
    await app.inject({ url: `/${code}` })
    return (await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks as number
  }, (n) => n >= 1, 60_000)
})
