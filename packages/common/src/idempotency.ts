// Idempotency-Key for POST endpoints that create things: the same key and body returns the
// first response; the same key with another body is a 422. The key row is written in the same
// transaction as the thing created, so a request that fails leaves no key behind and a
// concurrent duplicate waits on the first one's row lock, then replays its response.
//
// Each service's migrations create the table:
//   CREATE TABLE idempotency_keys (
//     scope text NOT NULL, key text NOT NULL, request_hash text NOT NULL,
//     status int, response jsonb, created_at timestamptz NOT NULL DEFAULT now(),
//     PRIMARY KEY (scope, key));
import { createHash } from 'node:crypto'
import createError from '@fastify/error'
import type pg from 'pg'
import { withTransaction } from './postgres.ts'

export const IdempotencyKeyInvalid = createError(
  'IDEMPOTENCY_KEY_INVALID',
  'Idempotency-Key must be 1 to 200 visible ASCII characters',
  400
)
export const IdempotencyKeyReused = createError(
  'IDEMPOTENCY_KEY_REUSED',
  'This Idempotency-Key was already used with a different request body',
  422
)

/** Keys older than this are forgotten: the same key then starts a new request. */
const RETENTION = '24 hours'

export interface StoredResponse<T> {
  status: number
  body: T
}

/** A canonical hash of a JSON body: key order does not matter, values do. */
export function requestHash (body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical)
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
    }
    return value
  }
  return createHash('sha256').update(JSON.stringify(canonical(body) ?? null)).digest('base64url')
}

/** The header's value, validated; undefined when the client sent none. */
export function idempotencyKeyOf (headers: Record<string, string | string[] | undefined>): string | undefined {
  const key = headers['idempotency-key']
  if (key === undefined) return undefined
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key)) throw new IdempotencyKeyInvalid()
  return key
}

/**
 * Runs `create` in a transaction guarded by the key. Without a key it is a plain transaction.
 * `scope` separates users (the owner id, or a marker for anonymous callers).
 */
export async function withIdempotency<T> (
  pool: pg.Pool,
  request: { scope: string, key: string | undefined, body: unknown },
  create: (client: pg.PoolClient) => Promise<StoredResponse<T>>
): Promise<StoredResponse<T> & { replayed: boolean }> {
  // A replay commits nothing new: the key's row is the first request's, read under its lock.
  return withTransaction(pool, async (client) => {
    if (request.key !== undefined) {
      const hash = requestHash(request.body)
      await client.query(
        'DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < now() - $3::interval',
        [request.scope, request.key, RETENTION]
      )
      const inserted = await client.query(
        'INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [request.scope, request.key, hash]
      )
      if (inserted.rowCount === 0) {
        // The first request committed (we waited on its row lock if it was in flight).
        const { rows } = await client.query<{ request_hash: string, status: number, response: T }>(
          'SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2', [request.scope, request.key])
        const first = rows[0]
        if (!first || first.request_hash !== hash) throw new IdempotencyKeyReused()
        return { status: first.status, body: first.response, replayed: true }
      }
      const result = await create(client)
      await client.query('UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2',
        [request.scope, request.key, result.status, JSON.stringify(result.body)])
      return { ...result, replayed: false }
    }
    return { ...await create(client), replayed: false }
  })
}
