// An upstream whose name stands for several instances (Docker's DNS under `--scale`, a headless
// Service): requests spread over every address, an instance that appears is used after the next
// resolution, and one that goes gets nothing more. Real HTTP servers on three loopback
// addresses; only the name's answer is given by the test, as the DNS would give it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { after, test } from 'node:test'
import { freePort } from '@shortfeed/infra'
import { createUpstream } from '../../src/upstream/upstream-client.ts'

async function instance (address: string, port: number, served: Map<string, number>): Promise<Server> {
  const server = createServer((_req, res) => {
    served.set(address, (served.get(address) ?? 0) + 1)
    res.writeHead(200, { 'content-type': 'text/plain' }).end(address)
  })
  server.listen(port, address)
  await once(server, 'listening')
  after(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }))
  return server
}

test('requests spread over every address of the name, follow it as instances come and go', async () => {
  const port = await freePort()
  const served = new Map<string, number>()
  for (const address of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) await instance(address, port, served)
  let answer = ['127.0.0.1', '127.0.0.2']
  const upstream = createUpstream({
    name: 'shortener',
    instances: [`http://shortener.test:${port}`],
    timeoutMs: 5_000,
    retries: 0,
    connections: 4,
    breaker: { errorThresholdPercentage: 50, volumeThreshold: 1_000, resetTimeout: 1_000 },
    // A long interval: the test asks for each resolution itself.
    resolveIntervalMs: 3_600_000,
    resolve: async () => answer.map((address) => ({ address, family: 4 }))
  })
  after(() => upstream.close())
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await upstream.call({ method: 'GET', path: '/', headers: {} })
      await res.body.text()
    }
  }

  await upstream.refreshInstances()
  assert.equal(upstream.instanceCount(), 2)
  await send(10)
  assert.deepEqual(Object.fromEntries(served), { '127.0.0.1': 5, '127.0.0.2': 5 })

  answer = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
  await upstream.refreshInstances()
  served.clear()
  await send(9)
  assert.deepEqual(Object.fromEntries([...served].sort()), { '127.0.0.1': 3, '127.0.0.2': 3, '127.0.0.3': 3 })

  answer = ['127.0.0.3']
  await upstream.refreshInstances()
  served.clear()
  await send(4)
  assert.deepEqual(Object.fromEntries(served), { '127.0.0.3': 4 })

  // The name stops resolving (DNS hiccup, every instance restarting): the last set stays.
  answer = []
  await upstream.refreshInstances()
  assert.equal(upstream.instanceCount(), 1)
})
