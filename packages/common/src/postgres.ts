// A pg Pool with the timeouts pg leaves unset: connecting never waits forever and no statement
// holds a connection longer than the configured limit.
import pg from 'pg'

export interface PostgresOptions {
  connectionString: string
  applicationName: string
  max?: number
  connectTimeoutMs?: number
  statementTimeoutMs?: number
}

export function createPostgresPool (options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000
  })
  // An idle client losing its connection (server restart) emits on the pool; unhandled, that
  // would crash the process. The next checkout simply opens a new connection.
  pool.on('error', () => {})
  // A checked-out client has no such listener (the pool removes it at checkout), so a server
  // that dies while a transaction holds a client between two queries — Postgres tells every
  // session "terminating connection" — emitted an unhandled 'error' and crashed the service.
  // The failure still reaches the code through its next query (the client is no longer
  // queryable), and release() then discards the client.
  pool.on('connect', (client) => { client.on('error', () => {}) })
  return pool
}

export async function pingPostgres (pool: pg.Pool): Promise<void> {
  await pool.query('SELECT 1')
}

/**
 * Runs `work` in one transaction on one pooled client: COMMIT when it returns, ROLLBACK when it
 * throws (the error goes on), the client released either way. A rollback that fails too (the
 * connection died) is ignored: the original error is the one worth seeing.
 */
export async function withTransaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}
