// Kafka down while people post: posts are accepted (the outbox keeps their events), and when
// the broker is back every post reaches every follower's timeline, once. Uses a broker of its
// own, stopped and restarted mid-test.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort, startNativeKafka, type NativeKafka } from '@shortfeed/infra'
import { Redis } from 'ioredis'
import { buildStack, eventually, follow, post, register, timeline } from '../helper.ts'

// A broker restart takes 20–50 s on a loaded 2-core machine (four test files run at once), and
// the consumer group must then rejoin: more than the suite's default two minutes, at times, and
// over three minutes once while Docker built images beside four test files. The bounds only
// bound a failure.
test('when Kafka is down while posting, then every post arrives once after it returns', { timeout: 420_000 }, async (t) => {
  const started = Date.now()
  const phase = (what: string) => { t.diagnostic(`+${((Date.now() - started) / 1000).toFixed(1)} s ${what}`) }
  const dir = mkdtempSync(join(tmpdir(), 'timeline-kafka-outage-'))
  chmodSync(dir, 0o755)
  const ports = { port: await freePort(), controllerPort: await freePort() }
  let kafka: NativeKafka = await startNativeKafka({ dir, ...ports })
  const { api, env } = await buildStack({ KAFKA_BROKERS: kafka.brokers })
  // After hooks run in order: the apps close (registered by buildStack) before the broker stops.
  after(async () => { await kafka.stop(); rmSync(dir, { recursive: true, force: true }) })
  const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
  after(() => { redis.disconnect() })

  const author = await register(api)
  const followers = [await register(api), await register(api)]
  for (const f of followers) {
    await follow(api, f.id, author.id)
    await timeline(api, f.id)
  }

  phase('seeded')
  await kafka.stop()
  phase('kafka stopped')
  const posted: string[] = []
  for (let i = 0; i < 5; i++) posted.push((await post(api, author.id, `during outage ${i}`)).id)
  const waiting = (await api.pg.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n
  assert.ok(waiting >= 5, 'events wait in the outbox')
  const gauge = /^timeline_outbox_backlog(?:\{[^}]*\})? (\d+)/m.exec((await api.inject({ url: '/metrics' })).body)
  assert.equal(Number(gauge?.[1]), waiting, 'the backlog gauge shows what waits')

  kafka = await startNativeKafka({ dir, ...ports })
  phase('kafka back')
  for (const f of followers) {
    const members = await eventually(() => redis.zrange(`timeline:${f.id}`, '0', '-1'), (m) => posted.every((id) => m.includes(id)), 300_000)
      .catch(async (err: Error) => {
        // Which side stalled: events still in the outbox are the relay's; none there, the consumer's.
        const waiting = (await api.pg.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n
        throw new Error(`${err.message}; ${waiting} events still in the outbox`)
      })
    assert.equal(members.filter((m) => posted.includes(m)).length, 5, 'each post once')
    assert.deepEqual((await timeline(api, f.id)).items.map((p) => p.id), [...posted].reverse())
    phase('a follower has every post')
  }
  await eventually(async () => (await api.pg.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n, (n) => n === 0)
})
