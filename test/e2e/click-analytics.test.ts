// Click analytics through the front door, with every process of the system running: clicks
// sent through the gateway from known addresses (the gateway trusts this client's
// X-Forwarded-For, as it would a load balancer's: TRUST_PROXY), referrers and user agents come
// back from GET /api/v1/urls/{code}/stats exactly as they were sent.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { apiRequest, type ApiRequestOptions } from '@shortfeed/infra/client'
import { eventually, uniqueName } from '../harness.ts'
import { startAbuseStack } from '../abuse/stack.ts'

const system = await startAbuseStack({ env: { gateway: { TRUST_PROXY: '127.0.0.1' } } })
const gateway = system.gateway

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
const IPAD = 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'

async function api (method: string, path: string, options: ApiRequestOptions = {}) {
  return await apiRequest<Record<string, any>>(gateway, method, path, options)
}

const byValue = (list: Array<{ value: string, clicks: number }>) => Object.fromEntries(list.map((r) => [r.value, r.clicks]))

test('clicks through the gateway from known addresses, referrers and agents: the stats API says exactly what was sent', { timeout: 300_000 }, async () => {
  const handle = uniqueName('analyst').slice(0, 30)
  assert.equal((await api('POST', '/api/v1/users', { body: { handle, password: 'correct horse battery' } })).status, 201)
  const { body: { accessToken: token } } = await api('POST', '/api/v1/auth/token', { body: { handle, password: 'correct horse battery' } })
  const created = await api('POST', '/api/v1/urls', { token, body: { url: 'https://example.com/analysed' } })
  assert.equal(created.status, 201)
  const code = created.body['code'] as string

  const sent = [
    { ip: '8.8.8.8', referer: 'https://www.news.example/a', agent: IPHONE }, // US
    { ip: '1.1.1.1', referer: 'https://news.example/b', agent: WINDOWS }, // AU
    { ip: '81.2.69.142', referer: 'https://blog.example/', agent: IPAD }, // GB
    { ip: '81.2.69.160', agent: WINDOWS }, // GB, no referrer
    { ip: '192.168.1.20', referer: 'https://blog.example/x', agent: IPHONE } // private: unknown
  ]
  for (const click of sent) {
    const res = await fetch(`${gateway}/${code}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': click.ip, 'user-agent': click.agent, ...(click.referer ? { referer: click.referer } : {}) }
    })
    assert.equal(res.status, 302)
  }

  const stats = await eventually(async () => (await api('GET', `/api/v1/urls/${code}/stats`, { token })).body, (s) => s['total'] === sent.length, 120_000)
  assert.deepEqual(byValue(stats['countries']), { US: 1, AU: 1, GB: 2, unknown: 1 })
  assert.deepEqual(byValue(stats['referrers']), { 'news.example': 2, 'blog.example': 2, '(direct)': 1 })
  assert.deepEqual(byValue(stats['devices']), { mobile: 2, desktop: 2, tablet: 1 })
  assert.equal(stats['series'].reduce((sum: number, p: { clicks: number }) => sum + p.clicks, 0), sent.length)

  // The link's count and its analytics agree; someone else sees no such link.
  assert.equal((await api('GET', `/api/v1/urls/${code}`)).body['clicks'], sent.length)
  const other = uniqueName('other').slice(0, 30)
  await api('POST', '/api/v1/users', { body: { handle: other, password: 'correct horse battery' } })
  const { body: { accessToken: otherToken } } = await api('POST', '/api/v1/auth/token', { body: { handle: other, password: 'correct horse battery' } })
  assert.equal((await api('GET', `/api/v1/urls/${code}/stats`, { token: otherToken })).status, 404)
})
