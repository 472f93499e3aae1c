// Reads user profiles from the public API (handles for the texts, @mentions to ids), with a
// short cache: a burst of follows by one user costs one lookup. The cache is bounded: every
// @mention of a handle, existing or not, is a key a post's author chooses.
import { UpstreamUnavailableError } from '@shortfeed/common'
import { LRUCache } from 'lru-cache'

export interface UserRef { id: string, handle: string }

/** Profiles remembered at most; a handle that does not exist is remembered too (as null). */
const CACHE_MAX = 10_000

export function createUsersClient (baseUrl: string, timeoutMs: number, ttlMs = 60_000, maxEntries = CACHE_MAX) {
  const cache = new LRUCache<string, { value: UserRef | null }>({ max: maxEntries, ttl: ttlMs })

  async function get (path: string): Promise<UserRef | null> {
    const hit = cache.get(path)
    if (hit) return hit.value
    const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
    if (response.status === 404) {
      cache.set(path, { value: null })
      return null
    }
    // The users API down or restarting: the consumer waits for it rather than dead-lettering.
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      throw new UpstreamUnavailableError(`users API answered ${response.status} for ${path}`)
    }
    // Anything else unexpected is a failure the consumer retries (and dead-letters if it lasts).
    if (!response.ok) throw new Error(`users API answered ${response.status} for ${path}`)
    const user = await response.json() as UserRef
    const value = { id: user.id, handle: user.handle }
    cache.set(path, { value })
    return value
  }

  return {
    byId: (id: string) => get(`/api/v1/users/${encodeURIComponent(id)}`),
    byHandle: (handle: string) => get(`/api/v1/users/by-handle/${encodeURIComponent(handle)}`)
  }
}

export type UsersClient = ReturnType<typeof createUsersClient>
