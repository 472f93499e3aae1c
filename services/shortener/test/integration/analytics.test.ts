// Click analytics: redirects from known addresses, referrers and user agents are enriched on
// their way to Kafka, counted per hour by country, referrer and device exactly once (also when
// a batch is redelivered), and read back by the link's owner alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createEvent, Topics, type DecodedMessage, type UrlClickedData } from '@shortfeed/common'
import { createShortenerMetrics } from '../../src/metrics.ts'
import { aggregateClicks } from '../../src/workers/click-aggregator.ts'
import { asUser, buildWithClicksWorkerForFile, eventually, uniqueName } from '../helper.ts'

const { app } = await buildWithClicksWorkerForFile()
const metrics = createShortenerMetrics()

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
const IPAD = 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

async function ownLink (owner: string, url: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/urls', headers: asUser(owner), payload: { url } })
  assert.equal(res.statusCode, 201, res.body)
  return res.json().code
}

const sortByValue = (list: Array<{ value: string, clicks: number }>) => [...list].sort((a, b) => (a.value < b.value ? -1 : 1))

test('clicks from known countries, referrers and devices are counted exactly, for the owner only', async () => {
  const owner = uniqueName('owner')
  const code = await ownLink(owner, 'https://example.com/analytics')
  // The shortener trusts X-Forwarded-For from private addresses (the gateway's): inject comes from 127.0.0.1.
  const clicks: Array<{ ip: string, referer?: string, agent?: string }> = [
    { ip: '8.8.8.8', referer: 'https://www.news.example/story?id=1', agent: IPHONE }, // US
    { ip: '8.8.4.4', referer: 'https://news.example/other', agent: WINDOWS }, // US
    { ip: '81.2.69.142', referer: 'https://blog.example/', agent: IPAD }, // GB
    { ip: '2a02:2e0::1', agent: WINDOWS }, // DE, no referrer
    { ip: '10.1.2.3', referer: 'not a url', agent: GOOGLEBOT }, // private: unknown country
    { ip: '127.0.0.1', agent: '' } // loopback, no referrer, an empty user agent
  ]
  for (const c of clicks) {
    const headers: Record<string, string> = { 'x-forwarded-for': c.ip }
    if (c.referer) headers['referer'] = c.referer
    if (c.agent !== undefined) headers['user-agent'] = c.agent
    assert.equal((await app.inject({ url: `/${code}`, headers })).statusCode, 302)
  }
  const stats = await eventually(async () => (await app.inject({ url: `/api/v1/urls/${code}/stats`, headers: asUser(owner) })).json(),
    (s) => s.total === clicks.length)

  assert.equal(stats.granularity, 'hour')
  assert.equal(stats.series.length, 7 * 24 + 1, 'a week of hours, the current one included')
  assert.equal(stats.series.reduce((sum: number, p: { clicks: number }) => sum + p.clicks, 0), clicks.length)
  assert.deepEqual(sortByValue(stats.countries), [{ value: 'DE', clicks: 1 }, { value: 'GB', clicks: 1 }, { value: 'US', clicks: 2 }, { value: 'unknown', clicks: 2 }])
  assert.deepEqual(sortByValue(stats.referrers), [
    { value: '(direct)', clicks: 2 }, { value: 'blog.example', clicks: 1 }, { value: 'news.example', clicks: 2 }, { value: 'unknown', clicks: 1 }
  ])
  assert.deepEqual(sortByValue(stats.devices), [
    { value: 'bot', clicks: 1 }, { value: 'desktop', clicks: 2 }, { value: 'mobile', clicks: 1 }, { value: 'tablet', clicks: 1 }, { value: 'unknown', clicks: 1 }
  ])
  assert.equal(stats.countries[0].clicks >= stats.countries.at(-1).clicks, true, 'ranked by clicks')

  const days = (await app.inject({ url: `/api/v1/urls/${code}/stats?granularity=day`, headers: asUser(owner) })).json()
  assert.equal(days.total, clicks.length)
  assert.ok(days.series.every((p: { at: string }) => p.at.endsWith('T00:00:00.000Z')))

  // Someone else's link is no link at all; nobody's is 401; a backwards range is 400.
  assert.equal((await app.inject({ url: `/api/v1/urls/${code}/stats`, headers: asUser(uniqueName('other')) })).statusCode, 404)
  assert.equal((await app.inject({ url: `/api/v1/urls/${code}/stats` })).statusCode, 401)
  const backwards = await app.inject({ url: `/api/v1/urls/${code}/stats?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`, headers: asUser(owner) })
  assert.equal(backwards.statusCode, 400)
  assert.match(backwards.headers['content-type'] as string, /application\/problem\+json/)
  const tooLong = await app.inject({ url: `/api/v1/urls/${code}/stats?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, headers: asUser(owner) })
  assert.equal(tooLong.statusCode, 400)
})

test('a redelivered batch changes no count, and referrers past the top N fold into "other"', async () => {
  const owner = uniqueName('owner')
  const code = await ownLink(owner, 'https://example.com/folded')
  const partition = { topic: uniqueName('clicks'), partition: 0 }
  const at = '2026-11-30T10:15:00.000Z'
  const click = (referrerHost: string, country: string, device: NonNullable<UrlClickedData['device']>, minute = '15'): UrlClickedData =>
    ({ code, at: at.replace(':15:', `:${minute}:`), referrerHost, country, device })
  const batch: DecodedMessage[] = [
    click('a.example', 'FR', 'mobile'), click('b.example', 'FR', 'desktop'), click('c.example', 'JP', 'desktop'),
    click('a.example', 'JP', 'mobile', '59'), click('d.example', 'BR', 'tv')
  ].map((data, offset) => ({
    event: createEvent(Topics.urlClicked, data, { source: 'test' }),
    meta: { topic: partition.topic, partition: 0, offset: String(offset), key: code, headers: {} }
  }))
  await aggregateClicks(app.pg, batch, partition, [], metrics, 2)
  await aggregateClicks(app.pg, batch, partition, [], metrics, 2)

  const res = await app.inject({ url: `/api/v1/urls/${code}/stats?from=2026-11-30T00:00:00Z&to=2026-12-01T00:00:00Z`, headers: asUser(owner) })
  assert.equal(res.statusCode, 200, res.body)
  const stats = res.json()
  assert.equal(stats.total, 5)
  assert.deepEqual(stats.series.filter((p: { clicks: number }) => p.clicks > 0), [{ at: '2026-11-30T10:00:00.000Z', clicks: 5 }])
  assert.deepEqual(sortByValue(stats.referrers), [{ value: 'a.example', clicks: 2 }, { value: 'b.example', clicks: 1 }, { value: 'other', clicks: 2 }])
  assert.deepEqual(sortByValue(stats.countries), [{ value: 'BR', clicks: 1 }, { value: 'FR', clicks: 2 }, { value: 'JP', clicks: 2 }])
  assert.deepEqual(sortByValue(stats.devices), [{ value: 'desktop', clicks: 2 }, { value: 'mobile', clicks: 2 }, { value: 'tv', clicks: 1 }])
  assert.equal((await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks, 5)
})
