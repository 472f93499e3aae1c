// When Kafka hangs or goes away: redirects are unaffected and the clicks that cannot be
// published are counted as dropped. Uses a broker of its own so the shared one stays up.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort, startNativeKafka } from '@shortfeed/infra'
import { buildApp, counter, eventually, testConfig } from '../helper.ts'

// Its own timeout: a send stuck on the frozen broker is given up after CLICK_SEND_TIMEOUT_MS,
// and kafkajs once held one for minutes, which that bound now cuts; the bounds below only bound
// a failure on a loaded machine.
test('when Kafka hangs and then dies, then redirects never wait for it and every click it missed is counted as dropped', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shortener-kafka-outage-'))
  chmodSync(dir, 0o755)
  const kafka = await startNativeKafka({ dir, port: await freePort(), controllerPort: await freePort() })
  after(async () => { await kafka.stop(); rmSync(dir, { recursive: true, force: true }) })
  const app = await buildApp(await testConfig({ KAFKA_BROKERS: kafka.brokers, CLICK_AGGREGATOR_ENABLED: 'false' }))
  after(() => app.close())

  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/offline' } })).json()
  // Clicks while the broker is up until one is published: the click producer connects in the
  // background, and on a loaded machine the first clicks may come before it has (and drop).
  const published = await counter(app, 'shortener_clicks_published')
  await eventually(async () => {
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
    await app.clicks.flush()
    return await counter(app, 'shortener_clicks_published') - published
  }, (n) => n >= 1, 90_000)
  const dropped = await counter(app, 'shortener_clicks_dropped')
  const publishedBefore = await counter(app, 'shortener_clicks_published')
  // A frozen broker keeps the producer's connection open and answers nothing: a send to it waits
  // for kafkajs' 30 s request timeout, once per try. A redirect that waited for its click would
  // take that long each, and these 21 would outlast the test's own timeout on any machine.
  kafka.process.signalGroup('SIGSTOP')
  for (let i = 0; i < 21; i++) assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)

  kafka.process.signalGroup('SIGKILL')
  // Every click is accounted for: published (one a broker took just as it froze) or counted as
  // dropped, none lost unseen; and the frozen, then dead, broker did make clicks drop.
  const outcome = await eventually(async () => {
    await app.clicks.flush()
    return {
      dropped: await counter(app, 'shortener_clicks_dropped') - dropped,
      published: await counter(app, 'shortener_clicks_published') - publishedBefore
    }
  }, (n) => n.dropped + n.published === 21, 240_000)
  t.diagnostic(`of 21 clicks: ${outcome.dropped} dropped, ${outcome.published} published`)
  assert.ok(outcome.dropped > 0, 'clicks the broker could not take were counted as dropped')
  assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302, 'and with no broker at all')
})

test('when Kafka is down at start, then the service starts degraded, serves redirects, and heals when Kafka comes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shortener-kafka-late-'))
  chmodSync(dir, 0o755)
  const ports = { port: await freePort(), controllerPort: await freePort() }
  // No broker exists until later in this test: had start-up waited for one, it would not end.
  const app = await buildApp(await testConfig({ KAFKA_BROKERS: `127.0.0.1:${ports.port}`, KAFKA_START_WAIT_MS: '500' }))
  after(() => app.close())

  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/late' } })).json()
  assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
  const ready = await app.inject({ url: '/health/ready' })
  assert.equal(ready.statusCode, 503)
  assert.match(ready.json().checks.kafka, /^down/)

  const kafka = await startNativeKafka({ dir, ...ports })
  after(async () => { await kafka.stop(); rmSync(dir, { recursive: true, force: true }) })
  await eventually(async () => (await app.inject({ url: '/health/ready' })).statusCode, (s) => s === 200, 90_000)
  // Clicks sent before the click producer reconnects are dropped (and counted); keep clicking
  // until the aggregator, which joined in the background, counts them.
  await eventually(async () => {
    await app.inject({ url: `/${code}` })
    return (await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks as number
  }, (n) => n >= 1, 60_000)
})
