// Notifications in Postgres. record() is the write side of the pipeline: in one transaction it
// remembers the event for this recipient (a duplicate stops here), checks the recipient's
// preferences, and either stores a new notification or — past GROUP_AFTER of the same type
// within the window — folds the actor into the latest one ("X and 12 others followed you").
import { withTransaction } from '@shortfeed/common'
import type pg from 'pg'
import { renderNotification, type NotificationType } from './templates.ts'

export interface Notification {
  id: string
  type: NotificationType
  text: string
  actorIds: string[]
  actorCount: number
  data: Record<string, unknown>
  createdAt: string
  updatedAt: string
  read: boolean
  /** The change number: the SSE event id. */
  seq: string
}

interface Row {
  id: string
  recipient_id: string
  type: NotificationType
  text: string
  actor_ids: string[]
  actor_count: number
  data: Record<string, unknown>
  created_at: Date
  updated_at: Date
  read_at: Date | null
  change_seq: string
}

export const toNotification = (row: Row): Notification => ({
  id: row.id,
  type: row.type,
  text: row.text,
  actorIds: row.actor_ids,
  actorCount: row.actor_count,
  data: row.data,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  read: row.read_at !== null,
  seq: row.change_seq
})

export type RecordOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'suppressed' }
  | { outcome: 'created' | 'grouped', recipientId: string, notification: Notification }

export interface NewNotification {
  eventId: string
  recipientId: string
  type: NotificationType
  actor?: { id: string, handle: string }
  data: Record<string, unknown>
}

const COLUMNS = 'id, recipient_id, type, text, actor_ids, actor_count, data, created_at, updated_at, read_at, change_seq'

export function createNotificationStore (pool: pg.Pool, grouping: { after: number, windowSeconds: number }) {
  return {
    async record (input: NewNotification): Promise<RecordOutcome> {
      return withTransaction(pool, async (client): Promise<RecordOutcome> => {
        const fresh = await client.query(
          'INSERT INTO processed_events (event_id, recipient_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
          [input.eventId, input.recipientId])
        if (fresh.rowCount === 0) return { outcome: 'duplicate' }
        const muted = await client.query(
          'SELECT 1 FROM preferences WHERE user_id = $1 AND $2 = ANY(muted)',
          [input.recipientId, input.type])
        if (muted.rowCount === 1) return { outcome: 'suppressed' }
        // Serialise one recipient's writes so two events in a burst agree on the count.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [input.recipientId])
        const actorIds = input.actor ? [input.actor.id] : []
        const handles = input.actor ? [input.actor.handle] : []
        if (input.actor) {
          const recent = await client.query<Row>(
            `SELECT ${COLUMNS} FROM notifications
             WHERE recipient_id = $1 AND type = $2 AND created_at > now() - make_interval(secs => $3)
             ORDER BY id DESC LIMIT $4`,
            [input.recipientId, input.type, grouping.windowSeconds, grouping.after])
          if (recent.rows.length >= grouping.after) {
            const latest = recent.rows[0]!
            const actors = [input.actor.id, ...latest.actor_ids.filter((a) => a !== input.actor!.id)].slice(0, 50)
            const actorHandles = [input.actor.handle, ...((latest.data['actorHandles'] as string[] | undefined) ?? [])].slice(0, 50)
            const count = latest.actor_ids.includes(input.actor.id) ? latest.actor_count : latest.actor_count + 1
            const text = renderNotification({ type: input.type, actorHandles, actorCount: count, data: input.data })
            const { rows } = await client.query<Row>(
              `UPDATE notifications SET actor_ids = $2, actor_count = $3, text = $4, data = data || $5::jsonb,
                 change_seq = nextval('notification_changes'), updated_at = now(), read_at = NULL
               WHERE id = $1 RETURNING ${COLUMNS}`,
              [latest.id, actors, count, text, JSON.stringify({ actorHandles })])
            return { outcome: 'grouped', recipientId: input.recipientId, notification: toNotification(rows[0]!) }
          }
        }
        const data = { ...input.data, ...(input.actor ? { actorHandles: handles } : {}) }
        const text = renderNotification({ type: input.type, actorHandles: handles, actorCount: 1, data })
        const { rows } = await client.query<Row>(
          `INSERT INTO notifications (recipient_id, type, actor_ids, text, data) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [input.recipientId, input.type, actorIds, text, JSON.stringify(data)])
        return { outcome: 'created', recipientId: input.recipientId, notification: toNotification(rows[0]!) }
      })
    },

    async list (recipientId: string, limit: number, beforeId?: string) {
      const { rows } = await pool.query<Row>(
        `SELECT ${COLUMNS} FROM notifications ` +
          'WHERE recipient_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3',
        [recipientId, beforeId ?? null, limit])
      return rows.map(toNotification)
    },

    async unreadCount (recipientId: string): Promise<number> {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL',
        [recipientId])
      return rows[0]?.n ?? 0
    },

    /** Marks the given notifications (or all up to an id) read; only the recipient's own. */
    async markRead (recipientId: string, selection: { ids?: string[] | undefined, upToId?: string | undefined }): Promise<number> {
      const { rowCount } = await pool.query(
        `UPDATE notifications SET read_at = now() WHERE recipient_id = $1 AND read_at IS NULL
         AND (($2::bigint[] IS NOT NULL AND id = ANY($2::bigint[])) OR ($3::bigint IS NOT NULL AND id <= $3::bigint))`,
        [recipientId, selection.ids ?? null, selection.upToId ?? null])
      return rowCount ?? 0
    },

    /** Changes after `seq`, oldest first: what a reconnecting stream missed. */
    async changesSince (recipientId: string, seq: string, limit = 500) {
      const { rows } = await pool.query<Row>(
        `SELECT ${COLUMNS} FROM notifications WHERE recipient_id = $1 AND change_seq > $2::bigint ORDER BY change_seq LIMIT $3`,
        [recipientId, seq, limit])
      return rows.map(toNotification)
    },

    async preferences (userId: string): Promise<string[]> {
      const { rows } = await pool.query<{ muted: string[] }>('SELECT muted FROM preferences WHERE user_id = $1', [userId])
      return rows[0]?.muted ?? []
    },

    async setPreferences (userId: string, muted: string[]): Promise<string[]> {
      const { rows } = await pool.query<{ muted: string[] }>(
        'INSERT INTO preferences (user_id, muted) VALUES ($1, $2) ' +
          'ON CONFLICT (user_id) DO UPDATE SET muted = $2, updated_at = now() RETURNING muted',
        [userId, [...new Set(muted)].sort()])
      return rows[0]!.muted
    }
  }
}

export type NotificationStore = ReturnType<typeof createNotificationStore>
