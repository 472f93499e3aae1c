// Upstream names to instance origins: every address a name stands for, as Docker's DNS answers
// for a scaled service.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveOrigins, type Resolve } from '../../src/upstream/instances.ts'

const dns: Record<string, Array<{ address: string, family: number }>> = {
  shortener: [{ address: '172.18.0.7', family: 4 }, { address: '172.18.0.5', family: 4 }, { address: '172.18.0.7', family: 4 }],
  localhost: [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }],
  'v6-only': [{ address: 'fd00::2', family: 6 }]
}
const resolve: Resolve = async (name) => {
  const found = dns[name]
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
  return found
}

test('a name becomes one origin per address, sorted and without duplicates', async () => {
  assert.deepEqual(await resolveOrigins(['http://shortener:8081'], resolve), ['http://172.18.0.5:8081', 'http://172.18.0.7:8081'])
})

test('IPv4 is preferred where a name has both; an IPv6-only name keeps its addresses, bracketed', async () => {
  assert.deepEqual(await resolveOrigins(['http://localhost:8082'], resolve), ['http://127.0.0.1:8082'])
  assert.deepEqual(await resolveOrigins(['http://v6-only:8083'], resolve), ['http://[fd00::2]:8083'])
})

test('IP literals and https URLs are left as they are; a URL without a port gets 80', async () => {
  assert.deepEqual(await resolveOrigins(['http://10.0.0.9:8081', 'https://shortener.example', 'http://shortener'], resolve),
    ['http://10.0.0.9:8081', 'http://172.18.0.5:80', 'http://172.18.0.7:80', 'https://shortener.example'])
})

test('a name that does not resolve is an error (the watcher keeps the last instances)', async () => {
  await assert.rejects(resolveOrigins(['http://gone:8081'], resolve), /ENOTFOUND/)
})
