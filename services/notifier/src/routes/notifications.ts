// The notifier's read API: the caller's notifications (with the unread count), marking them
// read, muting types, and the live stream.
import createError from '@fastify/error'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { decodeCursor, encodeCursor, PageQuery, ProblemSchema as Problem, requireUser } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { MarkedRead, MarkRead, NotificationPage, Preferences, StreamHeaders } from '../schemas/notifications.ts'

// The validator drops unknown fields after counting them, so {"userId": 1} passes minProperties
// and arrives empty: refused here rather than answered "marked 0".
export const NothingToMark = createError('NOTIFIER_NOTHING_TO_MARK', 'Say which notifications to mark read: "ids" or "upToId"', 400)

// Encapsulated, so not an fp plugin with dependencies: app.ts registers it after notifier-store
// and notifier-sse-hub, whose decorations it reads.
export default async function notificationRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { notificationStore: store, sseHub: hub } = fastify

  app.get('/api/v1/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'Your notifications, newest first, with the unread count',
      querystring: PageQuery,
      response: {
        200: NotificationPage,
        400: Problem,
        401: Problem
      }
    }
  }, async (request) => {
    const userId = requireUser(request)
    const before = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor)
    // The count after the page, not beside it: two statements in parallel see two moments, and a
    // notification committed between them appeared in the page while the count still said 0.
    const rows = await store.list(userId, request.query.limit + 1, before)
    const unreadCount = await store.unreadCount(userId)
    const items = rows.slice(0, request.query.limit)
    // The stored shape is the schema's; TypeBox cannot see that through the literal union.
    return { items, nextCursor: rows.length > request.query.limit ? encodeCursor(items.at(-1)!.id) : null, unreadCount } as never
  })

  app.post('/api/v1/notifications/read', {
    schema: {
      tags: ['notifications'],
      summary: 'Mark notifications read: some ids, or everything up to an id',
      body: MarkRead,
      response: { 200: MarkedRead, 400: Problem, 401: Problem }
    }
  }, async (request) => {
    const userId = requireUser(request)
    if (request.body.ids === undefined && request.body.upToId === undefined) throw new NothingToMark()
    const marked = await store.markRead(userId, request.body)
    return { marked, unreadCount: await store.unreadCount(userId) }
  })

  app.put('/api/v1/notifications/preferences', {
    schema: {
      tags: ['notifications'],
      summary: 'Mute notification types (the list replaces the previous one)',
      body: Preferences,
      response: { 200: Preferences, 400: Problem, 401: Problem }
    }
  }, async (request) => ({ muted: await store.setPreferences(requireUser(request), request.body.muted) }) as never)

  app.get('/api/v1/notifications/stream', {
    schema: {
      tags: ['notifications'],
      summary: 'Live notifications as Server-Sent Events (resume with Last-Event-ID)',
      headers: StreamHeaders
    }
  }, async (request, reply) => {
    const userId = requireUser(request)
    // HEAD gets the stream's headers and ends: a stream never flushes its head for a HEAD
    // (no body is written), so the caller would wait until it timed out.
    if (request.method === 'HEAD') {
      return reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').send()
    }
    await hub.open(userId, reply, request.headers['last-event-id'] as string | undefined)
  })
}
