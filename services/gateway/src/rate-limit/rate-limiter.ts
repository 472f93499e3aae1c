// Distributed rate limiting with GCRA (the generic cell rate algorithm, a token bucket that
// stores one timestamp per key), atomic in Redis through a Lua script so every gateway
// instance shares each client's budget. The script reads Redis' own clock, so instances with
// skewed clocks agree. When Redis cannot answer, each instance falls back to the same
// algorithm in memory (fail open, counted in gateway_ratelimit_fail_open): the API stays up and
// abuse is still bounded per instance.
//
// Why not @fastify/rate-limit: its Redis store is a fixed window (INCR + PEXPIRE), which lets a
// client send twice the limit across a window boundary; GCRA spreads the budget evenly.
import type { Redis, Result } from 'ioredis'

export interface Policy {
  name: string
  limit: number
  periodSeconds: number
}

export interface Decision {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the budget is full again. */
  resetSeconds: number
  /** Seconds to wait before retrying (denied requests). */
  retryAfterSeconds: number
  /** True when Redis was unreachable and the local limiter decided. */
  local: boolean
}

// KEYS[1]: the client's key. ARGV: emission interval (µs), burst tolerance (µs), tokens wanted,
// tokens returned (a lapsed lease's unspent ones, given back first). Grants as many of the wanted
// tokens as the budget holds (at least one, or the request is refused). Returns {granted,
// tat_after - now (µs), retry_after (µs)}.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local returned = tonumber(ARGV[4])
local stored = tonumber(redis.call('GET', KEYS[1]))
local tat = (stored or now) - returned * interval
if tat < now then tat = now end
-- n tokens fit while tat + n * interval - tolerance <= now.
local fit = math.floor((now + tolerance - tat) / interval)
if fit < 1 then
  if returned > 0 and stored then redis.call('SET', KEYS[1], tat, 'PX', math.ceil((tat - now) / 1000) + 1) end
  return {0, tat - now, tat + interval - tolerance - now}
end
local granted = math.min(wanted, fit)
local new_tat = tat + granted * interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {granted, new_tat - now, 0}`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gcra: (key: string, interval: number, tolerance: number, wanted: number, returned: number) => Result<[number, number, number], Context>
  }
}

/**
 * Leases: a busy client's tokens are taken from the shared budget a few at a time and spent
 * locally, so a hot key costs one Redis call per lease instead of one per request. A lease
 * starts at one token and doubles each time a client spends it within LEASE_MS, up to
 * leaseCap(policy); it lapses after LEASE_MS, and the next lease request gives its unspent tokens
 * back to the shared budget. Bounds (docs/security.md):
 * - never more than the budget: tokens are taken before they are spent, so all instances
 *   together admit at most what GCRA allows, plus what was leased in the LEASE_MS before a window;
 * - refused early by at most instances × leaseCap tokens: those leased elsewhere and not spent.
 */
export const LEASE_MS = 1_000
export const LEASE_MAX_TOKENS = 32
/** Small budgets (logins: 10 a minute) stay exact, one Redis decision per request. */
export function leaseCap (policy: Policy): number {
  return Math.max(1, Math.min(LEASE_MAX_TOKENS, Math.floor(policy.limit / 20)))
}

interface Answer { refused?: Decision, fallback?: Decision }

interface Lease {
  size: number
  tokens: number
  expiresAt: number
  /** The shared budget left when the lease was granted (for RateLimit-Remaining). */
  sharedRemaining: number
  resetSeconds: number
}

/** GCRA on one clock, in microseconds; exported for the in-memory fallback and tests. */
export function gcraStep (
  tat: number | undefined, now: number, interval: number, tolerance: number
): { allowed: boolean, tat: number, ahead: number, retryAfter: number } {
  const start = Math.max(tat ?? now, now)
  const next = start + interval
  const allowAt = next - tolerance
  if (allowAt > now) return { allowed: false, tat: start, ahead: start - now, retryAfter: allowAt - now }
  return { allowed: true, tat: next, ahead: next - now, retryAfter: 0 }
}

function emissionInterval (policy: Policy): number {
  // At least 1 µs: a limit above a million per second would otherwise round to 0.
  return Math.max(1, Math.round((policy.periodSeconds * 1e6) / policy.limit))
}

function decide (policy: Policy, allowed: boolean, ahead: number, retryAfter: number, local: boolean): Decision {
  const interval = emissionInterval(policy)
  const tolerance = policy.periodSeconds * 1e6
  return {
    allowed,
    limit: policy.limit,
    remaining: Math.max(0, Math.floor((tolerance - ahead) / interval)),
    resetSeconds: Math.ceil(ahead / 1e6),
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfter / 1e6)),
    local
  }
}

export function parsePolicy (name: string, spec: string): Policy {
  const [limit, period] = spec.split('/').map(Number)
  return { name, limit: limit!, periodSeconds: period! }
}

export function createRateLimiter (redis: Redis, onFailOpen: () => void) {
  redis.defineCommand('gcra', { numberOfKeys: 1, lua: GCRA_SCRIPT })
  const fallback = new Map<string, number>()
  const leases = new Map<string, Lease>()
  // One lease request per key at a time; requests arriving meanwhile wait for its answer.
  const pending = new Map<string, Promise<Answer>>()
  // Keep memory bounded: forget fallback budgets that are full again, and lapsed leases.
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [key, tat] of fallback) if (tat < now * 1000) fallback.delete(key)
    for (const [key, lease] of leases) if (lease.expiresAt < now - LEASE_MS) leases.delete(key)
  }, 10_000)
  sweep.unref()

  function spend (policy: Policy, lease: Lease): Decision {
    lease.tokens--
    return {
      allowed: true,
      limit: policy.limit,
      remaining: lease.sharedRemaining + lease.tokens,
      resetSeconds: lease.resetSeconds,
      retryAfterSeconds: 0,
      local: false
    }
  }

  function nextSize (policy: Policy, previous: Lease | undefined, now: number): number {
    if (!previous || previous.expiresAt < now - LEASE_MS) return 1
    // Spent within its time: the client is busy, take more. Lapsed: take what it used.
    const size = previous.tokens === 0 && previous.expiresAt > now ? previous.size * 2 : previous.size - previous.tokens
    return Math.max(1, Math.min(leaseCap(policy), size))
  }

  /**
   * Asks Redis for a lease: nothing when one was granted (spend it from the map), else the
   * decision — a refusal holds for every request that waited on it (no token could have come
   * back meanwhile); a fallback decision is only the asker's.
   */
  async function requestLease (policy: Policy, key: string): Promise<Answer> {
    const interval = emissionInterval(policy)
    const tolerance = policy.periodSeconds * 1e6
    const now = Date.now()
    const previous = leases.get(key)
    const size = nextSize(policy, previous, now)
    // A lease that lapsed unspent (its client slowed down) gives its tokens back to the shared
    // budget with this call, so waste stays bounded by the leases still held, however slowly
    // requests come. Zeroed first: a refusal or a retry must not return them twice.
    const returned = previous && previous.tokens > 0 && previous.expiresAt <= now ? previous.tokens : 0
    if (previous && returned > 0) previous.tokens = 0
    try {
      const [granted, ahead, retryAfter] = await redis.gcra(key, interval, tolerance, size, returned)
      if (granted === 0) return { refused: decide(policy, false, ahead, retryAfter, false) }
      const shared = decide(policy, true, ahead, 0, false)
      leases.set(key, {
        size,
        tokens: granted,
        expiresAt: Date.now() + LEASE_MS,
        sharedRemaining: shared.remaining,
        resetSeconds: shared.resetSeconds
      })
      return {}
    } catch {
      onFailOpen()
      const micros = Date.now() * 1000
      const step = gcraStep(fallback.get(key), micros, interval, tolerance)
      if (step.allowed) fallback.set(key, step.tat)
      return { fallback: decide(policy, step.allowed, step.ahead, step.retryAfter, true) }
    }
  }

  return {
    async check (policy: Policy, identity: string): Promise<Decision> {
      const key = `rl:${policy.name}:${identity}`
      for (;;) {
        const lease = leases.get(key)
        if (lease && lease.tokens > 0 && lease.expiresAt > Date.now()) return spend(policy, lease)
        const waiting = pending.get(key)
        if (waiting) {
          const { refused } = await waiting
          if (refused) return refused
          continue
        }
        const asked = requestLease(policy, key).finally(() => { pending.delete(key) })
        pending.set(key, asked)
        const { refused, fallback } = await asked
        if (refused ?? fallback) return (refused ?? fallback)!
      }
    },
    close () { clearInterval(sweep) }
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
