// The users client's cache: a lookup is remembered (a burst costs one request), unknown handles
// too, and the cache stays bounded however many different @mentions arrive.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, test } from 'node:test'
import { createUsersClient } from '../../src/users-client.ts'

const requests: string[] = []
const api = createServer((req, res) => {
  requests.push(req.url!)
  const handle = /by-handle\/(\w+)$/.exec(req.url!)?.[1]
  if (!handle || handle.startsWith('nobody')) res.writeHead(404).end()
  else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `id-${handle}`, handle }))
})
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
after(() => { api.close() })
const address = api.address()
const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
const countOf = (handle: string) => requests.filter((r) => r.endsWith(`/${handle}`)).length

test('a user looked up again is answered from the cache, and so is a handle that does not exist', async () => {
  const users = createUsersClient(baseUrl, 5_000)
  assert.deepEqual(await users.byHandle('ada'), { id: 'id-ada', handle: 'ada' })
  assert.deepEqual(await users.byHandle('ada'), { id: 'id-ada', handle: 'ada' })
  assert.equal(await users.byHandle('nobody1'), null)
  assert.equal(await users.byHandle('nobody1'), null)
  assert.deepEqual([countOf('ada'), countOf('nobody1')], [1, 1])
})

test('the cache is bounded: past its size the least recently used entry is forgotten', async () => {
  const users = createUsersClient(baseUrl, 5_000, 60_000, 3)
  for (const handle of ['b1', 'b2', 'b3', 'b4']) await users.byHandle(handle)
  await users.byHandle('b4')
  await users.byHandle('b1')
  assert.deepEqual([countOf('b1'), countOf('b4')], [2, 1], 'b1 was evicted when b4 came; b4 was still there')
})
