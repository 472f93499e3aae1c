import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { MissingBinaryError, postgresBinDir, requireBinary } from '../native/binaries.ts'
import { freePort } from '../native/ports.ts'
import { randomClusterId } from '../native/kafka.ts'

describe('native server prerequisites', () => {
  test('when a binary is missing, then the error names it and says what to install', () => {
    assert.throws(() => requireBinary('no-such-server-binary', 'Install it with apt-get.'), (err: unknown) => {
      assert.ok(err instanceof MissingBinaryError)
      assert.match(err.message, /no-such-server-binary not found on PATH\. Install it with apt-get\./)
      return true
    })
  })

  test('when PG_BIN_DIR points nowhere and nothing else has initdb, then the error says how to get Postgres', () => {
    const saved = { PATH: process.env['PATH'], PG_BIN_DIR: process.env['PG_BIN_DIR'] }
    process.env['PATH'] = '/nonexistent'
    process.env['PG_BIN_DIR'] = '/nonexistent'
    try {
      const dir = (() => { try { return postgresBinDir() } catch (err) { return err as Error } })()
      // Debian's /usr/lib/postgresql may still provide it; then it must hold initdb.
      if (dir instanceof Error) assert.match(dir.message, /PostgreSQL server binaries.*TEST_POSTGRES_URL/)
      else assert.match(dir, /\/usr\/lib\/postgresql\/\d+\/bin$/)
    } finally {
      process.env['PATH'] = saved.PATH
      if (saved.PG_BIN_DIR === undefined) delete process.env['PG_BIN_DIR']
      else process.env['PG_BIN_DIR'] = saved.PG_BIN_DIR
    }
  })

  test('a free port is free, and a preferred port in use is replaced', async () => {
    const port = await freePort()
    const { createServer } = await import('node:net')
    const server = createServer().listen(port, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      assert.notEqual(await freePort(port), port)
    } finally {
      server.close()
    }
  })

  test('free ports come from below the ephemeral range (where no outgoing connection can take one), each once', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()))
    for (const port of ports) assert.ok(port >= 20_000 && port < low!, `${port} is below ${low}`)
    assert.equal(new Set(ports).size, ports.length, 'no port handed out twice')
  })

  test('KRaft cluster ids are 22 URL-safe base64 characters', () => {
    assert.match(randomClusterId(), /^[A-Za-z0-9_-]{22}$/)
  })
})
