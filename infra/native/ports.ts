// Loopback ports: a free one from the kernel, or a preferred one when it is free.
import { createServer } from 'node:net'

function tryListen (port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => { resolve(undefined) })
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : undefined
      server.close(() => { resolve(bound) })
    })
  })
}

export async function freePort (preferred?: number): Promise<number> {
  if (preferred !== undefined) {
    const port = await tryListen(preferred)
    if (port !== undefined) return port
  }
  const port = await tryListen(0)
  if (port === undefined) throw new Error('no free loopback port')
  return port
}
