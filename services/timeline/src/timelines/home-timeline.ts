// The home timeline, read side of the hybrid fan-out: the entries pushed to the reader's Redis
// timeline merged with the posts readers must pull — those of celebrities (never pushed), those
// fan-out has not pushed yet, and the reader's own (read-your-writes) — newest first, without
// duplicates, and only from authors the reader follows now. A missing timeline (evicted, never
// built, or stale because fan-out skipped an inactive reader) is rebuilt from Postgres. With
// Redis unavailable the whole page comes from Postgres (every post and follow is there): slower,
// marked degraded, but a 200 instead of a 503.
import { isDependencyUnavailable } from '@shortfeed/common'
import type { TimelineMetrics } from '../metrics.ts'
import type { Post, Posts } from '../plugins/posts.ts'
import type { SocialGraph } from '../plugins/social-graph.ts'
import { compareIdsDesc, type TimelineStore } from './timeline-store.ts'

export interface HomeTimelineDeps {
  graph: SocialGraph
  posts: Posts
  store: TimelineStore
  maxEntries: number
  inactiveDays: number
  metrics: TimelineMetrics
}

/** Where a home-timeline item came from: the reader's pushed timeline, or a read-time pull. */
export type ItemSource = 'push' | 'pull'

export interface HomeTimelinePage {
  items: Array<Post & { source: ItemSource }>
  /** Id of the last item when more may follow. */
  nextBefore: string | null
  /** Served from Postgres alone: Redis (the pushed timelines) was unavailable. */
  degraded: boolean
}

const REDIS_DOWN = Symbol('redis down')

/** An outage of Redis becomes a marker the read can route around; anything else still throws. */
function redisDown (err: unknown): typeof REDIS_DOWN {
  if (isDependencyUnavailable(err)) return REDIS_DOWN
  throw err
}

/** Newest-first union of id lists without duplicates. */
export function mergeNewestFirst (...lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort(compareIdsDesc)
}

export function createHomeTimeline (deps: HomeTimelineDeps) {
  const { metrics } = deps
  const rebuilding = new Map<string, Promise<void>>()

  async function rebuild (readerId: string, followeeIds: string[]) {
    metrics.timelineRebuilds.add(1)
    // Create the key first so fan-out during the rebuild lands in it, then add the snapshot.
    await deps.store.replace(readerId, [])
    await deps.store.replace(readerId, await deps.posts.recentIds(followeeIds, deps.maxEntries))
  }

  /** One rebuild per reader per instance, however many of their requests arrive together. */
  function rebuildOnce (readerId: string, followeeIds: string[]) {
    let pending = rebuilding.get(readerId)
    if (!pending) {
      pending = rebuild(readerId, followeeIds).finally(() => { rebuilding.delete(readerId) })
      rebuilding.set(readerId, pending)
    }
    return pending
  }

  /** The page without Redis: the newest posts of everyone the reader follows, and their own. */
  async function fromPostgres (readerId: string, followeeIds: string[], limit: number, beforeId?: string): Promise<HomeTimelinePage> {
    metrics.degradedReads.add(1)
    const ids = await deps.posts.recentIds([...followeeIds, readerId], limit + 1, beforeId)
    const posts = await deps.posts.hydrate(ids)
    const items = posts.slice(0, limit).map((p) => ({ ...p, source: 'pull' as const }))
    return { items, nextBefore: posts.length > limit && items.length > 0 ? items.at(-1)!.id : null, degraded: true }
  }

  return {
    async read (readerId: string, limit: number, beforeId?: string): Promise<HomeTimelinePage> {
      // Fetch one more than asked from each source to know whether another page exists.
      const want = limit + 1
      // Redis and Postgres at once: the pushed page, and (one query) whom the reader follows
      // with what it pulls — every followed author's posts not pushed yet (celebrities' never
      // are) and the reader's own, so a post is visible to its author at once.
      const [previousActivity, page, { followeeIds, pulled }] = await Promise.all([
        deps.graph.touch(readerId),
        deps.store.pageIfExists(readerId, beforeId, want * 2).catch(redisDown),
        deps.posts.toPull(readerId, want, beforeId)
      ])
      if (page === REDIS_DOWN) return fromPostgres(readerId, followeeIds, limit, beforeId)
      const allowed = new Set([...followeeIds, readerId])
      // A reader back after inactiveDays: fan-out skipped them, so their timeline is stale.
      const inactiveSince = Date.now() - deps.inactiveDays * 86_400_000
      const stale = previousActivity !== null && previousActivity.getTime() < inactiveSince
      let pushed = stale ? null : page
      if (pushed === null) {
        const rebuilt = await rebuildOnce(readerId, followeeIds)
          .then(() => deps.store.page(readerId, beforeId, want * 2)).catch(redisDown)
        if (rebuilt === REDIS_DOWN) return fromPostgres(readerId, followeeIds, limit, beforeId)
        pushed = rebuilt
      } else {
        metrics.timelineHits.add(1)
      }
      const candidates = mergeNewestFirst(pushed, pulled).slice(0, want * 2)
      const hydrated = await deps.posts.hydrate(candidates)
      // A post pushed before an unfollow (or fanned out from a stale follower list) is dropped here.
      const visible = hydrated.filter((p) => allowed.has(p.authorId))
      const pushedIds = new Set(pushed)
      const items = visible.slice(0, limit).map((p) => ({ ...p, source: pushedIds.has(p.id) ? 'push' as const : 'pull' as const }))
      const more = visible.length > limit || (candidates.length >= want * 2 && items.length === limit)
      return { items, nextBefore: more && items.length > 0 ? items.at(-1)!.id : null, degraded: false }
    }
  }
}

export type HomeTimeline = ReturnType<typeof createHomeTimeline>
