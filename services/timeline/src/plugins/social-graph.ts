// Users and follows in Postgres. A follow or unfollow updates both counters and enqueues its
// event in the same transaction, and does nothing (no event) when it changes nothing, which
// is what makes PUT and DELETE idempotent.
import createError from '@fastify/error'
import { createEvent, enqueueEvents, Topics, withTransaction, type FollowData } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { SnowflakeGenerator } from '../ids/snowflake.ts'

export const HandleTaken = createError('TIMELINE_HANDLE_TAKEN', 'The handle "%s" is already taken', 409)
export const UserNotFound = createError('TIMELINE_USER_NOT_FOUND', 'No user with id %s', 404)
export const HandleNotFound = createError('TIMELINE_HANDLE_NOT_FOUND', 'No user with handle "%s"', 404)
export const SelfFollow = createError('TIMELINE_SELF_FOLLOW', 'You cannot follow yourself', 400)

export interface User {
  id: string
  handle: string
  displayName: string | null
  followerCount: number
  followingCount: number
  createdAt: Date
}

interface UserRow {
  id: string
  handle: string
  display_name: string | null
  follower_count: number
  following_count: number
  created_at: Date
  password_hash: string
  last_active_at: Date
}

function toUser (row: UserRow): User {
  return {
    id: row.id,
    handle: row.handle,
    displayName: row.display_name,
    followerCount: row.follower_count,
    followingCount: row.following_count,
    createdAt: row.created_at
  }
}

export interface SocialGraph {
  createUser: (client: pg.ClientBase, user: { handle: string, passwordHash: string, displayName: string | null }) => Promise<User>
  findUser: (id: string) => Promise<User | null>
  findCredentials: (handle: string) => Promise<{ user: User, passwordHash: string } | null>
  follow: (followerId: string, followeeId: string) => Promise<boolean>
  unfollow: (followerId: string, followeeId: string) => Promise<boolean>
  /** Marks the user active; returns when they were last active before now. */
  touch: (userId: string) => Promise<Date | null>
}

declare module 'fastify' {
  interface FastifyInstance {
    graph: SocialGraph
  }
}

export function createSocialGraph (pool: pg.Pool, ids: SnowflakeGenerator): SocialGraph {
  const recentlyTouched = new Map<string, number>()

  async function changeFollow (followerId: string, followeeId: string, follow: boolean): Promise<boolean> {
    if (followerId === followeeId) throw new SelfFollow()
    return withTransaction(pool, async (client) => {
      // Both counters change: lock both rows, always in id order, so that two users following
      // each other at the same moment cannot deadlock.
      const { rows: locked } = await client.query<{ id: string }>(
        'SELECT id FROM users WHERE id IN ($1, $2) ORDER BY id FOR UPDATE',
        [followerId, followeeId])
      if (!locked.some((r) => r.id === followeeId)) throw new UserNotFound(followeeId)
      const pair = [followerId, followeeId]
      const changed = follow
        ? await client.query('INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', pair)
        : await client.query('DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2', pair)
      if (changed.rowCount === 1) {
        const delta = follow ? 1 : -1
        await client.query('UPDATE users SET follower_count = follower_count + $2 WHERE id = $1', [followeeId, delta])
        await client.query('UPDATE users SET following_count = following_count + $2 WHERE id = $1', [followerId, delta])
        const topic = follow ? Topics.userFollowed : Topics.userUnfollowed
        const data: FollowData = { followerId, followeeId, at: new Date().toISOString() }
        await enqueueEvents(client, [{ topic, key: followeeId, event: createEvent(topic, data, { source: 'timeline' }) }])
      }
      return changed.rowCount === 1
    })
  }

  return {
    async createUser (client, user) {
      try {
        const { rows } = await client.query<UserRow>(
          'INSERT INTO users (id, handle, display_name, password_hash) VALUES ($1, $2, $3, $4) RETURNING *',
          [ids.nextId(), user.handle, user.displayName, user.passwordHash])
        return toUser(rows[0]!)
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new HandleTaken(user.handle)
        throw err
      }
    },
    async findUser (id) {
      const { rows } = await pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id])
      return rows[0] ? toUser(rows[0]) : null
    },
    async findCredentials (handle) {
      const { rows } = await pool.query<UserRow>('SELECT * FROM users WHERE lower(handle) = lower($1)', [handle])
      return rows[0] ? { user: toUser(rows[0]), passwordHash: rows[0].password_hash } : null
    },
    follow: (followerId, followeeId) => changeFollow(followerId, followeeId, true),
    unfollow: (followerId, followeeId) => changeFollow(followerId, followeeId, false),
    async touch (userId) {
      // One write per minute per user at most: activity needs days of precision, not seconds.
      // A user this instance saw within the minute needs no query at all (hot read path).
      const now = Date.now()
      if ((recentlyTouched.get(userId) ?? 0) > now - 60_000) return null
      if (recentlyTouched.size >= 100_000) recentlyTouched.clear()
      recentlyTouched.set(userId, now)
      const { rows } = await pool.query<{ previous: Date }>(
        `UPDATE users u SET last_active_at = now() FROM (SELECT id, last_active_at AS previous FROM users WHERE id = $1) p
         WHERE u.id = p.id AND u.last_active_at < now() - interval '1 minute' RETURNING p.previous`, [userId])
      return rows[0]?.previous ?? null
    }
  }
}

export default fp(async function socialGraph (app: FastifyInstance, options: { ids: SnowflakeGenerator }) {
  app.decorate('graph', createSocialGraph(app.pg, options.ids))
}, { name: 'social-graph', dependencies: ['postgres'] })
