// The redirect hot path's cache-aside: Redis first; on a miss one Postgres read per code per
// instance however many requests wait for it (request coalescing), then the cache is filled
// with a jittered TTL. Unknown codes are cached negatively for a short time. Redis failing is
// a miss, never an error: redirects go on from Postgres.
//
// Writers overwrite the entry (create and delete call store), readers only fill an empty one
// (SET NX): a reader that loaded a link just before it was deleted cannot put the stale copy
// back over the deletion. A store that fails while Redis is down is retried until it lands, so
// Redis coming back cannot serve a link that was deleted meanwhile.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { ShortenerMetrics } from '../metrics.ts'
import type { Link } from './links-repository.ts'

/** What a redirect needs to know, as cached. */
export interface RedirectTarget {
  url: string
  permanent: boolean
  /** Epoch ms, or null for links that do not expire. */
  expiresAt: number | null
  deleted: boolean
}

/**
 * How a lookup was answered, for the Cache-Status header (RFC 9211): from Redis, by this
 * request's own database read, by waiting for another request's read of the same code, or
 * from the database with the cache turned off.
 */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass'

export interface Resolution {
  /** The code's redirect target, or null when no such code exists. */
  target: RedirectTarget | null
  outcome: CacheOutcome
}

export interface LinkCacheOptions {
  enabled: boolean
  coalescing: boolean
  ttlSeconds: number
  jitter: number
  negativeTtlSeconds: number
}

export interface LinkCache {
  resolve: (code: string) => Promise<Resolution>
  /** Writes the current truth after a create or delete (replacing a negative or stale entry). */
  store: (code: string, target: RedirectTarget) => Promise<void>
  /** Stops retrying pending stores (shutdown). */
  close: () => void
}

declare module 'fastify' {
  interface FastifyInstance {
    linkCache: LinkCache
  }
}

const MISSING = '!'
const cacheKey = (code: string) => `link:${code}`

export function toRedirectTarget (link: Link): RedirectTarget {
  return { url: link.url, permanent: link.permanent, expiresAt: link.expiresAt?.getTime() ?? null, deleted: link.deletedAt !== null }
}

/** TTL within ±jitter of the base, never past the link's own expiry. */
export function cacheTtlSeconds (
  target: RedirectTarget, options: Pick<LinkCacheOptions, 'ttlSeconds' | 'jitter'>, now = Date.now(), random = Math.random
): number {
  const jittered = Math.round(options.ttlSeconds * (1 + options.jitter * (2 * random() - 1)))
  const untilExpiry = target.expiresAt === null ? Infinity : Math.ceil((target.expiresAt - now) / 1000)
  return Math.max(1, Math.min(jittered, untilExpiry))
}

export function createLinkCache (
  redis: Redis, load: (code: string) => Promise<Link | null>, options: LinkCacheOptions, metrics: ShortenerMetrics
): LinkCache {
  const inFlight = new Map<string, Promise<RedirectTarget | null>>()

  async function readCache (code: string): Promise<RedirectTarget | null | undefined> {
    try {
      const cached = await redis.get(cacheKey(code))
      if (cached === null) return undefined
      metrics.cacheHits.add(1)
      return cached === MISSING ? null : JSON.parse(cached) as RedirectTarget
    } catch {
      metrics.cacheErrors.add(1)
      return undefined
    }
  }

  async function writeCache (code: string, target: RedirectTarget | null) {
    try {
      if (target === null) await redis.set(cacheKey(code), MISSING, 'EX', options.negativeTtlSeconds, 'NX')
      else await redis.set(cacheKey(code), JSON.stringify(target), 'EX', cacheTtlSeconds(target, options), 'NX')
    } catch {
      metrics.cacheErrors.add(1)
    }
  }

  const pendingStores = new Map<string, RedirectTarget>()
  let retryTimer: NodeJS.Timeout | undefined

  async function overwrite (code: string, target: RedirectTarget): Promise<boolean> {
    try {
      await redis.set(cacheKey(code), JSON.stringify(target), 'EX', cacheTtlSeconds(target, options))
      return true
    } catch {
      metrics.cacheErrors.add(1)
      return false
    }
  }

  function scheduleRetry () {
    if (retryTimer) return
    retryTimer = setTimeout(async () => {
      retryTimer = undefined
      for (const [code, target] of pendingStores) {
        if (!await overwrite(code, target)) break
        pendingStores.delete(code)
      }
      if (pendingStores.size > 0) scheduleRetry()
    }, 1_000)
    retryTimer.unref()
  }

  async function loadAndFill (code: string): Promise<RedirectTarget | null> {
    metrics.databaseReads.add(1)
    const link = await load(code)
    const target = link ? toRedirectTarget(link) : null
    if (options.enabled) await writeCache(code, target)
    return target
  }

  async function coalescedLoad (code: string): Promise<Resolution> {
    if (!options.coalescing) return { target: await loadAndFill(code), outcome: 'miss' }
    const pending = inFlight.get(code)
    if (pending) {
      metrics.coalescedWaits.add(1)
      return { target: await pending, outcome: 'coalesced' }
    }
    const started = loadAndFill(code).finally(() => { inFlight.delete(code) })
    inFlight.set(code, started)
    return { target: await started, outcome: 'miss' }
  }

  return {
    async resolve (code) {
      if (!options.enabled) return { target: await loadAndFill(code), outcome: 'bypass' }
      const cached = await readCache(code)
      if (cached !== undefined) return { target: cached, outcome: 'hit' }
      metrics.cacheMisses.add(1)
      return coalescedLoad(code)
    },
    async store (code, target) {
      if (!options.enabled) return
      pendingStores.delete(code)
      if (!await overwrite(code, target)) {
        pendingStores.set(code, target)
        scheduleRetry()
      }
    },
    close () {
      clearTimeout(retryTimer)
    }
  }
}

export default fp(async function linkCache (app: FastifyInstance, options: LinkCacheOptions) {
  const cache = createLinkCache(app.redis, (code) => app.links.findByCode(code), options, app.shortenerMetrics)
  app.decorate('linkCache', cache)
  app.addHook('onClose', async () => { cache.close() })
}, { name: 'link-cache', dependencies: ['redis', 'links-repository', 'shortener-metrics'] })
