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

// KEYS[1]: the client's key. ARGV: emission interval (µs), burst tolerance (µs).
// Returns {allowed, tat_after - now (µs), retry_after (µs)}.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, tat - now, allow_at - now}
end
-- PX 0 is an error: a limit above a million per second has a zero interval.
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, new_tat - now, 0}`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gcra: (key: string, interval: number, tolerance: number) => Result<[number, number, number], Context>
  }
}

/** GCRA on one clock, in microseconds; exported for the in-memory fallback and tests. */
export function gcraStep (tat: number | undefined, now: number, interval: number, tolerance: number): { allowed: boolean, tat: number, ahead: number, retryAfter: number } {
  const start = Math.max(tat ?? now, now)
  const next = start + interval
  const allowAt = next - tolerance
  if (allowAt > now) return { allowed: false, tat: start, ahead: start - now, retryAfter: allowAt - now }
  return { allowed: true, tat: next, ahead: next - now, retryAfter: 0 }
}

function decide (policy: Policy, allowed: boolean, ahead: number, retryAfter: number, local: boolean): Decision {
  const interval = (policy.periodSeconds * 1e6) / policy.limit
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
  const local = new Map<string, number>()
  // Keep the fallback's memory bounded: forget keys whose budget is full again.
  const sweep = setInterval(() => {
    const now = Date.now() * 1000
    for (const [key, tat] of local) if (tat < now) local.delete(key)
  }, 10_000)
  sweep.unref()

  return {
    async check (policy: Policy, identity: string): Promise<Decision> {
      const interval = Math.round((policy.periodSeconds * 1e6) / policy.limit)
      const tolerance = policy.periodSeconds * 1e6
      const key = `rl:${policy.name}:${identity}`
      try {
        const [allowed, ahead, retryAfter] = await redis.gcra(key, interval, tolerance)
        return decide(policy, allowed === 1, ahead, retryAfter, false)
      } catch {
        onFailOpen()
        const now = Date.now() * 1000
        const step = gcraStep(local.get(key), now, interval, tolerance)
        if (step.allowed) local.set(key, step.tat)
        return decide(policy, step.allowed, step.ahead, step.retryAfter, true)
      }
    },
    close () { clearInterval(sweep) }
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
