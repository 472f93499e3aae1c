// The fault proxy's own proof, against a plain echo server: it forwards, delays, holds bytes in
// a black hole until it heals, resets connections, and counts what passes.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import { eventually } from '../harness.ts'
import { startFaultProxy } from './fault-proxy.ts'

async function echoServer (): Promise<{ server: Server, port: number, received: () => number }> {
  let received = 0
  const server = createServer((socket) => {
    socket.on('data', (chunk) => { received += chunk.length })
    socket.pipe(socket)
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  after(() => { server.close() })
  return { server, port: (server.address() as { port: number }).port, received: () => received }
}

async function client (port: number): Promise<{ socket: Socket, received: () => string, closed: Promise<Error | undefined> }> {
  const socket = connect({ port, host: '127.0.0.1' })
  let data = ''
  socket.on('data', (chunk) => { data += chunk.toString() })
  const closed = new Promise<Error | undefined>((resolve) => {
    socket.on('error', resolve)
    socket.on('close', () => { resolve(undefined) })
  })
  await once(socket, 'connect')
  after(() => { socket.destroy() })
  return { socket, received: () => data, closed }
}

const until = (condition: () => boolean) => eventually(condition, (met) => met)

describe('fault proxy', () => {
  test('when healthy, then bytes pass both ways and are counted', async () => {
    const echo = await echoServer()
    const proxy = await startFaultProxy({ target: echo.port })
    after(() => proxy.close())
    const c = await client(proxy.port)
    c.socket.write('hello')
    await until(() => c.received() === 'hello')
    const { connections, bytesToTarget, bytesFromTarget } = proxy.stats()
    assert.deepEqual({ connections, bytesToTarget, bytesFromTarget }, { connections: 1, bytesToTarget: 5, bytesFromTarget: 5 })
  })

  test('with latency, then every chunk arrives in order, no sooner than the delay each way', async () => {
    const echo = await echoServer()
    const proxy = await startFaultProxy({ target: echo.port })
    after(() => proxy.close())
    proxy.latency(150)
    const c = await client(proxy.port)
    const started = Date.now()
    for (const part of ['a', 'b', 'c']) c.socket.write(part)
    await until(() => c.received() === 'abc')
    assert.ok(Date.now() - started >= 300, 'a round trip crosses the delay twice')
  })

  test('in a black hole, then bytes are held, and delivered in order when it heals', async () => {
    const echo = await echoServer()
    const proxy = await startFaultProxy({ target: echo.port })
    after(() => proxy.close())
    const open = await client(proxy.port)
    proxy.blackhole()
    open.socket.write('one')
    const later = await client(proxy.port)
    later.socket.write('two')
    // The proxy has both writes, and holds them: none reached the server, none came back.
    await until(() => proxy.stats().bytesToTarget === 6)
    assert.equal(echo.received(), 0, 'nothing reached the server through the black hole')
    assert.equal(open.received() + later.received(), '', 'nothing came back through the black hole')
    proxy.heal()
    await until(() => open.received() === 'one' && later.received() === 'two')
  })

  test('when reset, then open connections and new ones are reset; after healing they work', async () => {
    const echo = await echoServer()
    const proxy = await startFaultProxy({ target: echo.port })
    after(() => proxy.close())
    const open = await client(proxy.port)
    proxy.reset()
    assert.equal(((await open.closed) as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')
    const refused = connect({ port: proxy.port, host: '127.0.0.1' })
    const [error] = await once(refused, 'error') as [NodeJS.ErrnoException]
    assert.equal(error.code, 'ECONNRESET')
    proxy.heal()
    const fresh = await client(proxy.port)
    fresh.socket.write('back')
    await until(() => fresh.received() === 'back')
  })

  test('a watched marker is counted once per occurrence, even when split across chunks', async () => {
    const echo = await echoServer()
    const proxy = await startFaultProxy()
    after(() => proxy.close())
    proxy.setTarget(echo.port)
    const requests = proxy.watchToTarget('HTTP/1.1\r\n')
    const c = await client(proxy.port)
    c.socket.write('GET / HTTP/1.1\r\n\r\nGET /x HTT')
    await until(() => c.received().length === 28)
    c.socket.write('P/1.1\r\n\r\n')
    await until(() => requests() === 2)
    assert.equal(requests(), 2)
  })
})
