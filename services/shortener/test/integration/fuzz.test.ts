// Property-based fuzzing of the shortener's HTTP surface: whatever arrives, the answer is never
// a 5xx (the stores are up; outages have their own tests).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { asUser, buildForFile } from '../helper.ts'
const app = await buildForFile({ CLICK_AGGREGATOR_ENABLED: 'false' })
test('when 2 000 arbitrary requests arrive, then none is answered with a 5xx', async () => {
  const bad: string[] = []
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.constant('POST'), fc.constant('GET'), fc.constant('DELETE'), fc.constant('PUT')),
    fc.oneof(fc.constant('/api/v1/urls'), fc.string().map((s) => '/' + encodeURIComponent(s)), fc.string().map((s) => '/api/v1/urls/' + s), fc.constant('/api/v1/me/urls?limit=abc&cursor=%ZZ'), fc.string().map(s => '/api/v1/me/urls?cursor=' + encodeURIComponent(s))),
    fc.oneof(fc.jsonValue(), fc.record({ url: fc.oneof(fc.webUrl(), fc.string(), fc.jsonValue()), alias: fc.oneof(fc.string(), fc.jsonValue()), ttlSeconds: fc.jsonValue(), permanent: fc.jsonValue() }, { requiredKeys: [] })),
    fc.boolean(),
    async (method, url, body, user) => {
      const res = await app.inject({ method: method as 'GET', url, headers: user ? asUser('u1') : {}, ...(method === 'POST' || method === 'PUT' ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(user ? asUser('u1') : {}) } } : {}) })
      if (res.statusCode >= 500) bad.push(`${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`)
      return true
    }), { numRuns: 2000 })
  assert.deepEqual(bad.slice(0, 5), [])
})
