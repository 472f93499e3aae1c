// What the system holds, to show that refused requests changed nothing: for every table of every
// service database its row count and a digest of its rows, and a digest of every Redis key of
// the stack. Rate-limit counters (every request counts, refused or not) and negative cache
// entries (an unknown code is remembered as unknown) are left out: they are meant to move.
//
// Every stack of a test run shares one Kafka broker and its topics, so this stack's consumers
// also see other stacks' events: rows and keys about users this stack does not have, and the
// click aggregator's bookkeeping of that topic (partition offsets, the ids of the events it
// counted, whoever's they were) are not this stack's state and are left out too, and so are
// its click analytics for codes this stack has no link for (other stacks' clicks).
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { AbuseStack, DatabaseName } from './stack.ts'

export interface TableState { rows: number, digest: string }
export interface SystemState {
  tables: Record<string, TableState>
  redis: Record<string, string>
}

/** Bookkeeping of a topic every stack shares. */
const SHARED_TOPIC_POSITIONS = new Set(['shortener.click_offsets', 'shortener.counted_clicks'])
/** Tables with rows per user: only this stack's users' rows count ($1, their ids). */
const PER_USER: Record<string, string> = {
  'notifier.notifications': 'recipient_id = ANY($1::text[])',
  'notifier.processed_events': 'recipient_id = ANY($1::text[])'
}
/** Tables with rows per link: only this stack's links' rows count. */
const PER_LINK: Record<string, string> = {
  'shortener.click_stats': 'code IN (SELECT code FROM links)',
  'shortener.click_referrers': 'code IN (SELECT code FROM links)'
}

async function databaseState (database: DatabaseName, url: string, users: string[]): Promise<Record<string, TableState>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows: tables } = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    const state: Record<string, TableState> = {}
    for (const { name } of tables) {
      const table = `${database}.${name}`
      if (SHARED_TOPIC_POSITIONS.has(table)) continue
      const perUser = PER_USER[table]
      const where = perUser ?? PER_LINK[table]
      const { rows: [row] } = await client.query<{ rows: number, digest: string | null }>(
        `SELECT count(*)::int AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM ${client.escapeIdentifier(name)} t ${where ? `WHERE ${where}` : ''}`,
        perUser ? [users] : [])
      state[table] = { rows: row!.rows, digest: row!.digest ?? '' }
    }
    return state
  } finally {
    await client.end()
  }
}

async function usersOf (stack: AbuseStack): Promise<string[]> {
  const client = new pg.Client({ connectionString: stack.databases.timeline })
  await client.connect()
  try {
    return (await client.query<{ id: string }>('SELECT id::text FROM users')).rows.map((r) => r.id)
  } finally {
    await client.end()
  }
}

async function redisState (stack: AbuseStack, users: Set<string>): Promise<Record<string, string>> {
  const redis = new Redis(stack.redisUrl, { lazyConnect: true })
  await redis.connect()
  try {
    const state: Record<string, string> = {}
    for await (const keys of redis.scanStream({ match: `${stack.redisPrefix}*`, count: 1000 })) {
      for (const key of keys as string[]) {
        const name = key.slice(stack.redisPrefix.length)
        if (name.startsWith('rl:')) continue
        if (name.startsWith('timeline:') && !users.has(name.slice('timeline:'.length))) continue
        const value = await redis.dumpBuffer(key)
        if (value === null) continue
        if (name.startsWith('link:') && await redis.get(key) === '!') continue
        state[name] = createHash('sha256').update(value).digest('base64url')
      }
    }
    return state
  } finally {
    redis.disconnect()
  }
}

export async function systemState (stack: AbuseStack): Promise<SystemState> {
  const users = await usersOf(stack)
  const tables: Record<string, TableState> = {}
  for (const name of Object.keys(stack.databases) as DatabaseName[]) Object.assign(tables, await databaseState(name, stack.databases[name], users))
  return { tables, redis: await redisState(stack, new Set(users)) }
}

/**
 * The state once background work (outbox relay, fan-out, notifier) has settled: the same on
 * three reads in a row, a second apart.
 */
export async function settledState (stack: AbuseStack, timeoutMs = 30_000): Promise<SystemState> {
  const deadline = Date.now() + timeoutMs
  let previous = JSON.stringify(await systemState(stack))
  let same = 0
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const current = await systemState(stack)
    const text = JSON.stringify(current)
    same = text === previous ? same + 1 : 0
    if (same >= 2) return current
    if (Date.now() > deadline) throw new Error('the system did not settle: background work kept changing the databases or Redis')
    previous = text
  }
}

/** Row counts per table, for the report. */
export function rowCounts (state: SystemState): Record<string, number> {
  return Object.fromEntries(Object.entries(state.tables).map(([table, { rows }]) => [table, rows]))
}
