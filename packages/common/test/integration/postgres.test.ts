// Migrations and the pg pool against a real Postgres.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import { createTestDatabase, eventually } from '@shortfeed/test-harness'
import { pino } from 'pino'
import { migrateDatabase } from '../../src/migrations.ts'
import { createPostgresPool, pingPostgres, withTransaction } from '../../src/postgres.ts'
import { isDependencyUnavailable } from '../../src/unavailable.ts'

const logger = pino({ level: 'silent' })
const dir = new URL('../fixtures/migrations', import.meta.url).pathname

describe('migrations', () => {
  test('when migrations run, then the schema exists and a second run applies nothing', async () => {
    const url = await createTestDatabase('migrate')
    assert.deepEqual(await migrateDatabase({ databaseUrl: url, dir, logger }), ['0001_notes', '0002_notes_created_at'])
    assert.deepEqual(await migrateDatabase({ databaseUrl: url, dir, logger }), [])
    const pool = createPostgresPool({ connectionString: url, applicationName: 'test' })
    after(() => pool.end())
    const { rows } = await pool.query('INSERT INTO notes (body) VALUES (\'x\') RETURNING id, created_at')
    assert.equal(rows.length, 1)
    assert.ok(rows[0].created_at instanceof Date)
  })

  test('when several instances migrate at once, then each migration is applied exactly once', async () => {
    const url = await createTestDatabase('migrate')
    const results = await Promise.all([1, 2, 3].map(() => migrateDatabase({ databaseUrl: url, dir, logger })))
    assert.deepEqual(results.flat().sort(), ['0001_notes', '0002_notes_created_at'])
  })

  test('when migrated down, then the last migration is reverted', async () => {
    const url = await createTestDatabase('migrate')
    await migrateDatabase({ databaseUrl: url, dir, logger })
    assert.deepEqual(await migrateDatabase({ databaseUrl: url, dir, logger, direction: 'down' }), ['0002_notes_created_at'])
  })
})

describe('postgres pool', () => {
  test('when the server is reachable, then ping resolves and statement_timeout is applied', async () => {
    const url = await createTestDatabase('pool')
    const pool = createPostgresPool({ connectionString: url, applicationName: 'pool-test', statementTimeoutMs: 200 })
    after(() => pool.end())
    await pingPostgres(pool)
    await assert.rejects(pool.query('SELECT pg_sleep(2)'), /statement timeout/)
  })

  test('when the server accepts but never answers, then a query fails on the connect timeout instead of hanging', async () => {
    // A socket that is accepted and then ignored: only the client's own timeout can end the wait.
    const silent = createServer(() => {})
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    after(() => { silent.close() })
    const { port } = silent.address() as AddressInfo
    const pool = createPostgresPool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none`, applicationName: 'x', connectTimeoutMs: 300 })
    after(() => pool.end())
    await assert.rejects(pingPostgres(pool), /connection timeout/)
  })
})

describe('pool', () => {
  test('when the server ends a checked-out client\'s session between two queries, then the next query fails and nothing crashes', async () => {
    const url = await createTestDatabase('pool')
    const pool = createPostgresPool({ connectionString: url, applicationName: 'test' })
    after(() => pool.end())
    const client = await pool.connect()
    const { rows: [{ pid }] } = await client.query('SELECT pg_backend_pid() AS pid')
    // What a dying server does to every session: a FATAL message, then the socket closes.
    await pool.query('SELECT pg_terminate_backend($1)', [pid])
    await eventually(async () => (await pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n, (n) => n === 0)
    await assert.rejects(client.query('SELECT 1'))
    client.release(true)
    await pingPostgres(pool)
  })
})

/** A TCP relay to Postgres that can stop passing the server's answers on: a frozen server, as the client sees it. */
async function freezableRelay (databaseUrl: string) {
  const target = new URL(databaseUrl)
  let frozen = false
  const sockets = new Set<Socket>()
  const relay = createServer((client) => {
    const server = connect(Number(target.port), target.hostname)
    for (const s of [client, server]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)) }
    client.pipe(server)
    server.on('data', (chunk) => { if (!frozen) client.write(chunk) })
    server.on('close', () => client.destroy())
    client.on('close', () => server.destroy())
  })
  relay.listen(0, '127.0.0.1')
  await once(relay, 'listening')
  after(() => { for (const s of sockets) s.destroy(); relay.close() })
  const url = new URL(databaseUrl)
  url.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`
  return { url: url.toString(), freeze: () => { frozen = true }, thaw: () => { frozen = false } }
}

describe('a server that stops answering', () => {
  test('when a query in a transaction gets no answer, then it fails as an outage on the client timeout, and the pool recovers', async () => {
    const relay = await freezableRelay(await createTestDatabase('frozen'))
    const pool = createPostgresPool({ connectionString: relay.url, applicationName: 'frozen-test', statementTimeoutMs: 300, connectTimeoutMs: 500 })
    after(() => pool.end())
    await pool.query('CREATE TABLE notes (body text)')

    relay.freeze()
    const started = Date.now()
    const failed = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO notes VALUES ('lost')")
    }).then(() => null, (err: unknown) => err)
    const waited = Date.now() - started
    assert.ok(isDependencyUnavailable(failed), `an outage, not a bug: ${String(failed)}`)
    // Bounded by the client's timeout (300 + 500 ms), not by a server that will never answer;
    // no ROLLBACK waited as long again. Generous, so a slow machine cannot fail it.
    assert.ok(waited < 30_000, `gave up after ${waited} ms`)

    relay.thaw()
    await eventually(() => pingPostgres(pool).then(() => true, () => false), (ok) => ok)
    assert.deepEqual((await pool.query('SELECT count(*)::int AS n FROM notes')).rows, [{ n: 0 }], 'the frozen transaction was rolled back')
  })
})
