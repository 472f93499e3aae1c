// A pg Pool with the timeouts pg leaves unset: connecting never waits forever and no statement
// holds a connection longer than the configured limit — on the server (statement_timeout) and,
// for a server that cannot answer at all (frozen, or a network that drops packets), on the
// client (query_timeout), which is what turns a hung request into a 503 instead of a 504.
import pg from 'pg'
import { isDependencyUnavailable } from './unavailable.ts'

export interface PostgresOptions {
  connectionString: string
  applicationName: string
  max?: number
  connectTimeoutMs?: number
  statementTimeoutMs?: number
}

/** How much longer than statement_timeout the client waits before giving up on the server. */
export const CLIENT_TIMEOUT_MARGIN_MS = 500

export function createPostgresPool (options: PostgresOptions): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 2_500
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeoutMs,
    // Later than the server's own limit, so a live server's cancellation (a clear error) wins.
    query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
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
    client.release()
    return result
  } catch (err) {
    if (isDependencyUnavailable(err)) {
      // The server cannot answer (or the connection is gone): a ROLLBACK would wait as long
      // again. Closing the connection rolls the transaction back on the server's side.
      client.release(err as Error)
    } else {
      await client.query('ROLLBACK').catch(() => {})
      client.release()
    }
    throw err
  }
}
