// The home timeline (timelines/home-timeline.ts: pushed entries from Redis merged with posts
// pulled from celebrities at read time) over the Redis timeline store, as app.homeTimeline.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createHomeTimeline, type HomeTimeline } from '../timelines/home-timeline.ts'
import { createTimelineStore } from '../timelines/timeline-store.ts'

export interface HomeTimelineOptions {
  maxEntries: number
  inactiveDays: number
}

declare module 'fastify' {
  interface FastifyInstance {
    homeTimeline: HomeTimeline
  }
}

export default fp(async function homeTimeline (app: FastifyInstance, options: HomeTimelineOptions) {
  app.decorate('homeTimeline', createHomeTimeline({
    graph: app.graph,
    posts: app.posts,
    store: createTimelineStore(app.redis, options.maxEntries),
    maxEntries: options.maxEntries,
    inactiveDays: options.inactiveDays,
    metrics: app.timelineMetrics
  }))
}, { name: 'home-timeline', dependencies: ['redis', 'social-graph', 'posts', 'timeline-metrics'] })
