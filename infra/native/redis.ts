// A redis-server on a loopback port, persistence off: it is a cache and a limiter store here.
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { requireBinary } from './binaries.ts'
import { spawnServer, waitUntilReady, type ServerProcess } from './process.ts'

export interface NativeRedis {
  url: string
  port: number
  process: ServerProcess
  stop: () => Promise<void>
}

/** Sends PING over a raw socket; resolves on +PONG. */
export function pingRedisPort (port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.setTimeout(1_000, () => { socket.destroy(new Error('timeout')) })
    socket.once('error', reject)
    socket.once('connect', () => { socket.write('PING\r\n') })
    socket.once('data', (data) => {
      socket.end()
      if (data.toString().startsWith('+PONG')) resolve()
      else reject(new Error(`unexpected reply ${data.toString().trim()}`))
    })
  })
}

export async function startNativeRedis (options: { dir: string, port: number }): Promise<NativeRedis> {
  const binary = requireBinary('redis-server', 'Install Redis (Debian: apt-get install redis-server) or give TEST_REDIS_URL.')
  mkdirSync(options.dir, { recursive: true })
  const server = spawnServer('redis', binary, [
    '--port', String(options.port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--protected-mode', 'no',
    '--dir', options.dir,
    '--maxclients', '2000'
  ], { logFile: join(options.dir, 'redis.log'), cwd: options.dir })
  await waitUntilReady(server, () => pingRedisPort(options.port), 30_000)
  return {
    url: `redis://127.0.0.1:${options.port}`,
    port: options.port,
    process: server,
    stop: () => server.stop('SIGTERM', 5_000)
  }
}
