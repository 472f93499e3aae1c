// GET /api/v1/timeline: the reader's home timeline (see timelines/home-timeline.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { decodeCursor, encodeCursor, PageQuery, pageOf, requireUser } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { ProblemResponse, TimelineItem } from '../schemas/timeline.ts'

/** Names the dependency a response was served without; absent when nothing was missing. */
export const DEGRADED_HEADER = 'shortfeed-degraded'

export default async function timelineRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/api/v1/timeline', {
    schema: {
      tags: ['timeline'],
      summary: 'Posts of the users you follow (and yours), newest first',
      description: 'While Redis is unavailable the page is built from Postgres alone (slower, every item a pull) and the answer ' +
        'carries `Shortfeed-Degraded: redis`.',
      querystring: PageQuery,
      response: { 200: pageOf(TimelineItem), 400: ProblemResponse, 401: ProblemResponse }
    }
  }, async (request, reply) => {
    const readerId = requireUser(request)
    const before = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor)
    const page = await app.homeTimeline.read(readerId, request.query.limit, before)
    if (page.degraded) reply.header(DEGRADED_HEADER, 'redis')
    return { items: page.items, nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore) }
  })
}
