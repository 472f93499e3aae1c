// Home timelines in Redis: one sorted set per user (member = post id, score = its time in ms),
// capped at TIMELINE_MAX_ENTRIES. A timeline that exists always holds a sentinel member, so
// "exists but empty" differs from "missing" (evicted or never built), which must be rebuilt.
// Pushes only land on timelines that exist: creating a partial one would hide older posts.
import type { Redis, Result } from 'ioredis'
import { snowflakeTime } from '../ids/snowflake.ts'

export const SENTINEL = '0'
export const timelineKey = (userId: string) => `timeline:${userId}`

/** Adds a post to a timeline that exists, then trims it to the cap (oldest out). */
const PUSH_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 1, -(tonumber(ARGV[3]) + 1))
return 1`
// Rank 0 is the sentinel (score 0): trimming starts at rank 1 so it is never evicted.

/**
 * The same for many timelines in one call: fan-out's hot loop. One script call per chunk of
 * followers instead of one per follower saves Redis most of its per-command work and ioredis
 * most of its per-command JavaScript. KEYS of one call must share a hash slot in Redis Cluster;
 * a clustered deployment would group followers by slot before chunking.
 */
const PUSH_MANY_SCRIPT = `
local pushed = 0
local cap = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  -- ZCARD answers "exists?" (0 = missing) and "full?" at once; most timelines are not full,
  -- so most pushes are two commands, not three.
  local size = redis.call('ZCARD', key)
  if size > 0 then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    if size > cap then redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 1)) end
    pushed = pushed + 1
  end
end
return pushed`
/** Followers per script call: bounds how long one call holds Redis (~1 ms). */
const PUSH_CHUNK = 250

declare module 'ioredis' {
  interface RedisCommander<Context> {
    pushToTimeline: (key: string, score: number, member: string, cap: number) => Result<number, Context>
    pushToTimelines: (...args: Array<string | number>) => Result<number, Context>
  }
}

export interface TimelineEntry { postId: string, at: number }

/** Snowflake ids as decimal strings (no leading zeros): the longer is the larger, else compare text. */
export function compareIdsDesc (a: string, b: string): number {
  return a.length !== b.length ? b.length - a.length : a < b ? 1 : a > b ? -1 : 0
}

// Scores are milliseconds; ids within one millisecond are told apart by comparing ids.
const maxScore = (beforeId: string | undefined) => beforeId === undefined ? '+inf' : String(snowflakeTime(beforeId))

function newestFirst (ids: string[], beforeId: string | undefined, count: number): string[] {
  return ids
    .filter((id) => beforeId === undefined || compareIdsDesc(id, beforeId) > 0)
    .sort(compareIdsDesc)
    .slice(0, count)
}

export interface TimelineStore {
  /** Pushes one post to many timelines in one pipeline; returns how many timelines took it. */
  pushMany: (userIds: readonly string[], postId: string) => Promise<number>
  /** Adds posts to one timeline if it exists (follow backfill). */
  addIfExists: (userId: string, postIds: readonly string[]) => Promise<boolean>
  remove: (userId: string, postIds: readonly string[]) => Promise<void>
  exists: (userId: string) => Promise<boolean>
  /** Replaces the timeline with these posts (rebuild). */
  replace: (userId: string, postIds: readonly string[]) => Promise<void>
  /** Up to `count` post ids older than `beforeId` (all when undefined), newest first. */
  page: (userId: string, beforeId: string | undefined, count: number) => Promise<string[]>
  /** page(), or null when the timeline does not exist (must be rebuilt): one round trip. */
  pageIfExists: (userId: string, beforeId: string | undefined, count: number) => Promise<string[] | null>
}

export function createTimelineStore (redis: Redis, cap: number): TimelineStore {
  redis.defineCommand('pushToTimeline', { numberOfKeys: 1, lua: PUSH_SCRIPT })
  redis.defineCommand('pushToTimelines', { lua: PUSH_MANY_SCRIPT })

  return {
    async pushMany (userIds, postId) {
      if (userIds.length === 0) return 0
      const score = snowflakeTime(postId)
      const pipeline = redis.pipeline()
      for (let i = 0; i < userIds.length; i += PUSH_CHUNK) {
        const keys = userIds.slice(i, i + PUSH_CHUNK).map(timelineKey)
        pipeline.pushToTimelines(keys.length, ...keys, score, postId, cap)
      }
      const results = await pipeline.exec()
      let pushed = 0
      for (const [err, value] of results ?? []) {
        if (err) throw err
        pushed += Number(value)
      }
      return pushed
    },

    async addIfExists (userId, postIds) {
      if (postIds.length === 0) return this.exists(userId)
      const pipeline = redis.pipeline()
      for (const postId of postIds) pipeline.pushToTimeline(timelineKey(userId), snowflakeTime(postId), postId, cap)
      const results = await pipeline.exec()
      return (results ?? []).some(([err, value]) => !err && Number(value) === 1)
    },

    async remove (userId, postIds) {
      if (postIds.length > 0) await redis.zrem(timelineKey(userId), ...postIds)
    },

    async exists (userId) {
      return await redis.exists(timelineKey(userId)) === 1
    },

    async replace (userId, postIds) {
      const key = timelineKey(userId)
      const args: Array<string | number> = [0, SENTINEL]
      for (const postId of postIds.slice(0, cap)) args.push(snowflakeTime(postId), postId)
      // Merge into whatever fan-out pushed while the rebuild read Postgres, never drop it.
      await redis.multi().zadd(key, ...args).zremrangebyrank(key, 1, -(cap + 1)).exec()
    },

    async page (userId, beforeId, count) {
      const ids = await redis.zrevrangebyscore(timelineKey(userId), maxScore(beforeId), '(0', 'LIMIT', 0, count + 64)
      return newestFirst(ids, beforeId, count)
    },

    async pageIfExists (userId, beforeId, count) {
      const key = timelineKey(userId)
      const results = await redis.pipeline().exists(key).zrevrangebyscore(key, maxScore(beforeId), '(0', 'LIMIT', 0, count + 64).exec()
      const [[existsError, exists], [pageError, ids]] =
        results as Array<[Error | null, unknown]> as [[Error | null, number], [Error | null, string[]]]
      if (existsError ?? pageError) throw existsError ?? pageError
      return exists === 1 ? newestFirst(ids, beforeId, count) : null
    }
  }
}
