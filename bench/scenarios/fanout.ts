// Fan-out on write at size: an author with N followers posts, and the bench waits until every
// follower's Redis timeline holds the post. Followers are seeded straight into the timeline
// database and Redis (registering 10 000 users through the API would spend minutes in scrypt
// measuring nothing of interest); the post itself goes through the gateway like any other.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { Api, User } from '../lib/api.ts'
import { median } from '../lib/load.ts'

const run = promisify(execFile)
const FIRST_SEEDED_ID = 1_000_000_000n

export interface FanoutResult {
  followers: number
  /** POST accepted → last timeline holds the post (outbox, Kafka and the worker included). */
  endToEndMs: number
  /** The worker's own time for the push (its timeline_fanout_duration histogram). */
  pushMs: number
  insertsPerSecond: number
  /** redis-benchmark -t zadd -P 16 on the same Redis, in the same run. */
  zaddPerSecond: number
}

export async function seedFollowers (databaseUrl: string, redisUrl: string, author: User, count: number): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  const redis = new Redis(redisUrl)
  try {
    const ids = Array.from({ length: count }, (_, i) => String(FIRST_SEEDED_ID + BigInt(i)))
    await pool.query(
      `INSERT INTO users (id, handle, password_hash, following_count)
       SELECT id, 'bench_f' || id, '!', 1 FROM unnest($1::bigint[]) AS id ON CONFLICT DO NOTHING`, [ids])
    await pool.query(
      'INSERT INTO follows (follower_id, followee_id) SELECT id, $2 FROM unnest($1::bigint[]) AS id ON CONFLICT DO NOTHING', [ids, author.id])
    await pool.query('UPDATE users SET follower_count = (SELECT count(*) FROM follows WHERE followee_id = $1) WHERE id = $1', [author.id])
    // Active readers have a timeline (the sentinel member marks "exists, maybe empty").
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.zadd(`timeline:${id}`, 0, '0')
    await pipeline.exec()
    return ids
  } finally {
    await pool.end()
    redis.disconnect()
  }
}

async function fanoutSecondsTotal (metricsUrl: string): Promise<number> {
  const body = await (await fetch(metricsUrl)).text()
  const line = body.split('\n').find((l) => l.startsWith('timeline_fanout_duration') && l.includes('_sum'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

async function untilEverywhere (redis: Redis, followerIds: string[], postId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  const hasPost = async (ids: string[]) => {
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.zscore(`timeline:${id}`, postId)
    return (await pipeline.exec())?.map(([, score]) => score !== null) ?? []
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 2))
  // The worker pushes in follower-id order, so the last follower is (nearly) the last one
  // served. Watching only that key keeps the poller from competing with the worker for Redis
  // and for the CPU: 10 000 ZSCOREs every few milliseconds would slow the push being measured.
  const last = followerIds.reduce((a, b) => (BigInt(b) > BigInt(a) ? b : a))
  let missing = followerIds
  while (missing.length > 0) {
    if (Date.now() > deadline) throw new Error(`post ${postId} missing from ${missing.length} timelines after ${timeoutMs} ms`)
    if (!(await hasPost([last]))[0]) { await tick(); continue }
    const present = await hasPost(missing)
    missing = missing.filter((_, i) => !present[i])
    if (missing.length > 0) await tick()
  }
}

export async function zaddRate (redisUrl: string, runs: number): Promise<number> {
  const { hostname, port } = new URL(redisUrl)
  const rates: number[] = []
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run('redis-benchmark', ['-h', hostname, '-p', port, '-t', 'zadd', '-n', '500000', '-P', '16', '--csv'])
    const row = stdout.trim().split('\n').find((l) => l.startsWith('"ZADD"'))
    if (!row) throw new Error(`redis-benchmark printed no ZADD row:\n${stdout}`)
    rates.push(Number(row.split(',')[1]!.replaceAll('"', '')))
  }
  return median(rates)
}

export async function measureFanout (options: {
  api: Api, author: User, followerIds: string[], redisUrl: string, fanoutMetricsUrl: string, runs: number
}): Promise<FanoutResult> {
  const redis = new Redis(options.redisUrl)
  const endToEnd: number[] = []
  const push: number[] = []
  try {
    for (let i = 0; i < options.runs + 1; i++) {
      const before = await fanoutSecondsTotal(options.fanoutMetricsUrl)
      const started = performance.now()
      const postId = await options.api.post(options.author, `bench fan-out ${i} ${Date.now()}`)
      await untilEverywhere(redis, options.followerIds, postId, 120_000)
      const elapsed = performance.now() - started
      // The histogram is recorded after the last push; give the worker a moment to get there.
      let pushed = 0
      for (let tries = 0; tries < 100 && pushed === 0; tries++) {
        pushed = (await fanoutSecondsTotal(options.fanoutMetricsUrl)) - before
        if (pushed === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      if (i === 0) continue // warm-up: connections, JIT, the follows index in cache
      endToEnd.push(elapsed)
      push.push(pushed * 1000)
    }
  } finally {
    redis.disconnect()
  }
  const pushMs = median(push)
  return {
    followers: options.followerIds.length,
    endToEndMs: median(endToEnd),
    pushMs,
    insertsPerSecond: options.followerIds.length / (pushMs / 1000),
    zaddPerSecond: await zaddRate(options.redisUrl, 3)
  }
}
