// Posts in Postgres, with a Redis post cache in front for hydration: a page of a timeline is
// one MGET, and only the misses read Postgres (one query for all of them).
import createError from '@fastify/error'
import { createEvent, enqueueEvents, Topics, type PostCreatedData } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import type { SnowflakeGenerator } from '../ids/snowflake.ts'
import type { TimelineMetrics } from '../metrics.ts'
import { compareIdsDesc } from '../timelines/timeline-store.ts'

export const PostNotFound = createError('TIMELINE_POST_NOT_FOUND', 'No post with id %s', 404)

export interface Post {
  id: string
  authorId: string
  authorHandle: string
  text: string
  createdAt: string
}

interface PostRow { id: string, author_id: string, author_handle: string, text: string, created_at: Date }

const toPost = (row: PostRow): Post => ({
  id: row.id,
  authorId: row.author_id,
  authorHandle: row.author_handle,
  text: row.text,
  createdAt: row.created_at.toISOString()
})
const cacheKey = (id: string) => `post:${id}`

export interface Posts {
  /** Writes the post and its post.created event (outbox) in the caller's transaction. */
  create: (client: pg.ClientBase, author: { id: string, handle: string }, text: string) => Promise<Post>
  /** Caches a post just written (after its transaction committed). */
  remember: (post: Post) => Promise<void>
  /** Posts by id, in the order asked, missing ones left out. */
  hydrate: (ids: readonly string[]) => Promise<Post[]>
  byAuthor: (authorId: string, limit: number, beforeId?: string) => Promise<Post[]>
  /** Ids of recent posts by these authors (rebuilds, backfills). */
  recentIds: (authorIds: readonly string[], limit: number, beforeId?: string, onlyUnpushed?: boolean) => Promise<string[]>
  /**
   * What a home read needs from Postgres, in one query: whom the reader follows, and the ids it
   * pulls — the followed authors' posts that fan-out has not pushed (celebrities' never are) and
   * the reader's own, newest first, up to `limit`. One query, not two: on this read path a
   * query's round trip (pool, protocol, socket writes) costs more than its rows. Ids, not rows:
   * the post cache hydrates them for less CPU than parsing rows (timestamps above all) costs,
   * measured with `node bench/cpu.ts --targets timeline`.
   */
  toPull: (readerId: string, limit: number, beforeId?: string) => Promise<{ followeeIds: string[], pulled: string[] }>
}

declare module 'fastify' {
  interface FastifyInstance {
    posts: Posts
  }
}

export function createPosts (
  pool: pg.Pool, redis: Redis, ids: SnowflakeGenerator, cacheTtlSeconds: number, metrics: TimelineMetrics
): Posts {
  async function cacheMany (posts: Post[]) {
    if (posts.length === 0) return
    try {
      const pipeline = redis.pipeline()
      for (const post of posts) pipeline.set(cacheKey(post.id), JSON.stringify(post), 'EX', cacheTtlSeconds)
      await pipeline.exec()
    } catch {
      metrics.postCacheErrors.add(1)
    }
  }

  return {
    async create (client, author, text) {
      const id = ids.nextId()
      const { rows } = await client.query<PostRow>(
        'INSERT INTO posts (id, author_id, author_handle, text, created_at) VALUES ($1, $2, $3, $4, now()) ' +
          'RETURNING id, author_id, author_handle, text, created_at',
        [id, author.id, author.handle, text])
      const post = toPost(rows[0]!)
      const data: PostCreatedData = { postId: post.id, authorId: post.authorId, text: post.text, createdAt: post.createdAt }
      const event = createEvent(Topics.postCreated, data, { source: 'timeline' })
      await enqueueEvents(client, [{ topic: Topics.postCreated, key: post.authorId, event }])
      return post
    },

    remember: (post) => cacheMany([post]),

    async hydrate (postIds) {
      if (postIds.length === 0) return []
      const found = new Map<string, Post>()
      try {
        const cached = await redis.mget(postIds.map(cacheKey))
        cached.forEach((value, i) => { if (value) found.set(postIds[i]!, JSON.parse(value) as Post) })
      } catch {
        metrics.postCacheErrors.add(1)
      }
      const missing = postIds.filter((id) => !found.has(id))
      metrics.postCacheHits.add(postIds.length - missing.length)
      metrics.postCacheMisses.add(missing.length)
      if (missing.length > 0) {
        const { rows } = await pool.query<PostRow>(
          'SELECT id, author_id, author_handle, text, created_at FROM posts WHERE id = ANY($1::bigint[])',
          [missing])
        const loaded = rows.map(toPost)
        for (const post of loaded) found.set(post.id, post)
        await cacheMany(loaded)
      }
      return postIds.map((id) => found.get(id)).filter((p): p is Post => p !== undefined)
    },

    async byAuthor (authorId, limit, beforeId) {
      const { rows } = await pool.query<PostRow>(
        'SELECT id, author_id, author_handle, text, created_at FROM posts ' +
          'WHERE author_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3',
        [authorId, beforeId ?? null, limit])
      return rows.map(toPost)
    },

    async toPull (readerId, limit, beforeId) {
      // Two index scans (posts_to_pull, posts_by_author), each stopped at the limit, beside the
      // reader's follows (follows' primary key).
      const { rows } = await pool.query<{ followee: boolean, id: string }>(
        `WITH followees AS (SELECT followee_id AS id FROM follows WHERE follower_id = $1)
         SELECT true AS followee, id FROM followees
         UNION ALL
         (SELECT false, id FROM posts WHERE author_id IN (SELECT id FROM followees) AND NOT pushed
           AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3)
         UNION ALL
         (SELECT false, id FROM posts WHERE author_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3)`,
        [readerId, beforeId ?? null, limit])
      const followeeIds: string[] = []
      const pulled: string[] = []
      for (const row of rows) (row.followee ? followeeIds : pulled).push(row.id)
      return { followeeIds, pulled: pulled.sort(compareIdsDesc).slice(0, limit) }
    },

    async recentIds (authorIds, limit, beforeId, onlyUnpushed = false) {
      if (authorIds.length === 0) return []
      const unpushedFilter = onlyUnpushed ? 'AND NOT pushed' : ''
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM posts WHERE author_id = ANY($1::bigint[]) AND ($2::bigint IS NULL OR id < $2::bigint) ${unpushedFilter}
         ORDER BY id DESC LIMIT $3`,
        [authorIds, beforeId ?? null, limit])
      return rows.map((r) => r.id)
    }
  }
}

export default fp(async function posts (app: FastifyInstance, options: { ids: SnowflakeGenerator, cacheTtlSeconds: number }) {
  app.decorate('posts', createPosts(app.pg, app.redis, options.ids, options.cacheTtlSeconds, app.timelineMetrics))
}, { name: 'posts', dependencies: ['postgres', 'redis', 'timeline-metrics'] })
