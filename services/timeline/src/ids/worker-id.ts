// A snowflake worker id per process: the next value of a Postgres sequence modulo 1 024, so up
// to 1 024 processes running at once never share one (ids would collide if they did).
import type pg from 'pg'
import { MAX_WORKER_ID } from './snowflake.ts'

export async function claimWorkerId (pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string }>("SELECT nextval('worker_ids') AS id")
  return Number(BigInt(rows[0]!.id) % BigInt(MAX_WORKER_ID + 1))
}
