// The workloads the fault cases share and the checks that count what arrived: a feed (an author
// and followers whose timelines exist), short links with warm caches, a posting load that
// retries each post with its Idempotency-Key until it is accepted, redirects over the seeded
// links, the timeline a fault follows under load, and the tallies of posts on timelines and
// @mentions in notifications.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { eventually } from '../harness.ts'
import { createApi, outcomeOf, type Api, type User } from './api.ts'
import type { FaultProxy } from './fault-proxy.ts'
import type { FaultStack, ServiceName } from './fault-stack.ts'
import { expectExactlyOnce, phaseClock, tally, type Tally } from './ledger.ts'
import { startLoad, type Load } from './load.ts'

/**
 * How every case begins: the stack healthy again (the case before may have left a process
 * restarting), a clock that prints each phase with its time, and a client of the gateway.
 */
export async function beginCase (t: TestContext, stack: FaultStack): Promise<{ phase: (what: string) => void, api: Api }> {
  await stack.ready()
  return { phase: phaseClock(t), api: createApi(stack.gatewayUrl) }
}

export interface Feed { author: User, followers: User[] }

/** An author and followers; each follower has read their timeline once, so it exists in Redis. */
export async function seedFeed (api: Api, options: { followers: number }): Promise<Feed> {
  const author = await api.register('author')
  const followers: User[] = []
  for (let i = 0; i < options.followers; i++) {
    const follower = await api.register('follower')
    await api.follow(follower, author.id)
    await api.timeline(follower)
    followers.push(follower)
  }
  return { author, followers }
}

export interface Links {
  codes: string[]
  /** Clicks counted on these links since they were seeded (the warm-up clicks excluded). */
  totalClicks: () => Promise<number>
}

/** Short links, each followed once so the cache holds it; waits until those clicks are counted. */
export async function seedLinks (api: Api, count: number): Promise<Links> {
  const owner = await api.register('linker')
  const codes: string[] = []
  for (let i = 0; i < count; i++) {
    const code = await api.shorten(owner, `https://example.com/fault/${i}/${randomUUID()}`)
    const warm = await api.redirect(code)
    if (warm.status !== 302) throw new Error(`warm-up redirect of ${code} answered ${warm.status}`)
    codes.push(code)
  }
  const sum = async () => (await Promise.all(codes.map((c) => api.clicks(c)))).reduce((a, b) => a + b, 0)
  await eventually(sum, (n) => n === count, 60_000)
  return { codes, totalClicks: async () => await sum() - count }
}

/** Redirects over the seeded links, each worker walking the codes from its own offset. */
export function redirectLoad (api: Api, links: Links, options: { workers?: number, pauseMs?: number } = {}): Load {
  const { codes } = links
  const step = (w: number, i: number) => outcomeOf(() => api.redirect(codes[(w * 7 + i) % codes.length]!))
  return startLoad({ workers: options.workers ?? 2, pauseMs: options.pauseMs ?? 20, step })
}

type Step = [what: string, act: () => unknown]

/**
 * What a fault case does while its load runs: 2 s of normal traffic, the fault (`start`) held
 * for `holdMs`, the recovery (`end`), then `recoverMs` more traffic, so that each load sees
 * before, during and after. Each step is a phase in the test's output.
 */
export async function underFault (phase: (what: string) => void, timing: { holdMs: number, recoverMs?: number }, start: Step, end: Step): Promise<void> {
  await delay(2_000)
  await start[1]()
  phase(start[0])
  await delay(timing.holdMs)
  await end[1]()
  phase(end[0])
  await delay(timing.recoverMs ?? 3_000)
}

/**
 * A consumer SIGKILLed in the middle of a batch: it is frozen while `backlog` produces its work,
 * thawed with latency on the server it writes to (`slowed`), and killed once `done()` reaches
 * `doneAtLeast`, before it finishes and with offsets still uncommitted for work it did (so
 * the restarted consumer gets that work again). Then it is restarted with the latency healed.
 * Returns what `backlog` produced.
 */
export async function killMidBatch<B> (stack: FaultStack, phase: (what: string) => void, options: {
  service: ServiceName,
  group: string,
  slowed: FaultProxy,
  latencyMs: number,
  backlog: () => Promise<B>,
  expected: (backlog: B) => number,
  done: () => Promise<number>,
  doneAtLeast: number,
  what: string
}): Promise<B> {
  const consumer = stack.service(options.service)
  consumer.process.signalGroup('SIGSTOP')
  const backlog = await options.backlog()
  const expected = options.expected(backlog)
  phase(`${expected} waiting for ${options.service}`)
  options.slowed.latency(options.latencyMs)
  consumer.process.signalGroup('SIGCONT')
  await eventually(options.done, (n) => n >= options.doneAtLeast, 60_000)
  consumer.process.signalGroup('SIGKILL')
  await consumer.process.exited
  const done = await options.done()
  const uncommitted = await stack.uncommitted(options.group, 'post.created')
  phase(`${options.service} killed with ${done} ${options.what} and ${uncommitted} messages uncommitted`)
  assert.ok(done < expected, 'killed before the batch was done')
  assert.ok(uncommitted > expected - done, 'some of the work done was not committed: it is delivered again')
  options.slowed.heal()
  await consumer.restart()
  phase(`${options.service} restarted`)
  return backlog
}

/** A 5xx answer to a write, kept to check that it was a 503 problem with Retry-After. */
export interface Refusal { status: number, contentType: string | null, retryAfter: string | null }

export interface WriteResult {
  /** Writes the load set out to make. */
  attempts: number
  /** Their ids once accepted (201 on the first try or on a retry with the same key). */
  accepted: string[]
  /** Writes accepted on the first try. */
  firstTry: number
  /** Every answer, retries included, by status ("0 ECONNRESET" for a network error). */
  byStatus: Record<string, number>
  refusals: Refusal[]
}

export interface WriteLoad<R extends WriteResult = WriteResult> {
  result: () => R
  /** Stops starting new writes; the ones under way keep retrying until accepted, then it resolves. */
  stop: () => Promise<R>
  /** Resolves when a burst (total) is all accepted. */
  done: () => Promise<R>
}

/**
 * Workers make writes in a loop. A write that is not accepted is retried with the same
 * Idempotency-Key, as a careful client does, until it is (within retryForMs), so a refusal can
 * never become a lost or a doubled write. `write` gets the worker, the iteration and the key;
 * `onAccepted` sees each accepted write's id.
 */
export function retryingWrites (options: {
  workers: number
  /** Stop after this many writes (a burst) instead of running until stop(). */
  total?: number
  pauseMs?: number
  retryForMs?: number
  write: (worker: number, i: number, key: string) => Promise<{ status: number, body: unknown, headers: Headers }>
  onAccepted?: (id: string, worker: number, i: number) => void
}): WriteLoad {
  const result: WriteResult = { attempts: 0, accepted: [], firstTry: 0, byStatus: {}, refusals: [] }
  const stopping = new AbortController()
  const deadline = Date.now() + 300_000
  const count = (key: string) => { result.byStatus[key] = (result.byStatus[key] ?? 0) + 1 }

  async function writeOnce (worker: number, i: number) {
    if (result.attempts >= (options.total ?? Infinity)) return false
    const key = randomUUID()
    result.attempts++
    const giveUpAt = Date.now() + (options.retryForMs ?? 120_000)
    for (let attempt = 1; Date.now() < giveUpAt; attempt++) {
      try {
        const answer = await options.write(worker, i, key)
        count(String(answer.status))
        const created = answer.body as { id?: string, code?: string } | undefined
        const id = created?.id ?? created?.code
        if (answer.status === 201 && id) {
          result.accepted.push(id)
          if (attempt === 1) result.firstTry++
          options.onAccepted?.(id, worker, i)
          return true
        }
        if (answer.status >= 500) result.refusals.push({ status: answer.status, contentType: answer.headers.get('content-type'), retryAfter: answer.headers.get('retry-after') })
      } catch (err) {
        count(`0 ${(err as { cause?: { code?: string } }).cause?.code ?? 'error'}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return true
  }

  const workers = Array.from({ length: options.workers }, async (_, worker) => {
    for (let i = 0; !stopping.signal.aborted && Date.now() < deadline; i++) {
      if (!await writeOnce(worker, i)) break
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs))
    }
  })
  const snapshot = () => ({ ...result, accepted: [...result.accepted], byStatus: { ...result.byStatus }, refusals: [...result.refusals] })
  return {
    result: snapshot,
    async stop () {
      stopping.abort()
      await Promise.all(workers)
      return snapshot()
    },
    async done () {
      await Promise.all(workers)
      return snapshot()
    }
  }
}

export interface PostingResult extends WriteResult {
  /** Which follower each mentioning post named. */
  mentions: Array<{ postId: string, recipient: User }>
}

/** The author posts in a loop (retryingWrites); every third post (or every mentionEvery-th) @mentions a follower. */
export function postingLoad (api: Api, feed: Feed, options: { workers: number, total?: number, pauseMs?: number, retryForMs?: number, mentionEvery?: number }): WriteLoad<PostingResult> {
  const mentions: PostingResult['mentions'] = []
  const every = options.mentionEvery ?? 3
  const recipientOf = (worker: number, i: number) => i % every === 0 ? feed.followers[(worker + i) % feed.followers.length]! : undefined
  const load = retryingWrites({
    ...options,
    write: (worker, i, key) => {
      const recipient = recipientOf(worker, i)
      return api.post(feed.author, `fault post ${worker}.${i}${recipient ? ` for @${recipient.handle}` : ''}`, key)
    },
    onAccepted: (id, worker, i) => {
      const recipient = recipientOf(worker, i)
      if (recipient) mentions.push({ postId: id, recipient })
    }
  })
  return {
    result: () => ({ ...load.result(), mentions: [...mentions] }),
    stop: async () => ({ ...await load.stop(), mentions: [...mentions] }),
    done: async () => ({ ...await load.done(), mentions: [...mentions] })
  }
}

/** True for the answer a refused write must get: 503, a problem document, and Retry-After. */
export function isRetryableProblem (refusal: Refusal): boolean {
  return refusal.status === 503 && refusal.contentType?.startsWith('application/problem+json') === true && refusal.retryAfter !== null
}

/** Polls until `done` or the deadline, and returns the last value either way (the tally says what is missing). */
export async function settle<T> (probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  try {
    return await eventually(probe, done, timeoutMs)
  } catch {
    return probe()
  }
}

/**
 * Where the accepted posts ended up: on each follower's Redis timeline (what fan-out pushed, or
 * a rebuild restored) and in each follower's home timeline through the API (what a reader
 * sees). Each post must be in each follower's timeline exactly once; a post nobody got a 201
 * for must be nowhere. `readFirst` reads through the API first, which rebuilds missing
 * timelines (after Redis lost them).
 */
export async function postsReachedTimelines (stack: FaultStack, api: Api, feed: Feed, accepted: string[], options: { readFirst?: boolean, timeoutMs?: number } = {}): Promise<{ redis: Tally, api: Tally }> {
  const timeoutMs = options.timeoutMs ?? 120_000
  const expected = feed.followers.flatMap((f) => accepted.map((id) => `${f.id}:${id}`))
  const pushed = async () => {
    const arrivals: string[] = []
    for (const f of feed.followers) {
      const members = await stack.redisClient.zrange(`timeline:${f.id}`, '0', '-1')
      for (const id of members) if (id !== '0') arrivals.push(`${f.id}:${id}`)
    }
    return arrivals
  }
  const read = async () => {
    const arrivals: string[] = []
    for (const f of feed.followers) for (const post of await api.timeline(f)) arrivals.push(`${f.id}:${post.id}`)
    return arrivals
  }
  const complete = (arrivals: string[]) => tally(expected, arrivals).lost === 0
  if (options.readFirst) {
    const seen = tally(expected, await settle(read, complete, timeoutMs))
    return { api: seen, redis: tally(expected, await settle(pushed, complete, 30_000)) }
  }
  const redis = tally(expected, await settle(pushed, complete, timeoutMs))
  return { redis, api: tally(expected, await settle(read, complete, 30_000)) }
}

/** Each @mention must have notified its follower exactly once. */
export async function mentionsNotified (api: Api, feed: Feed, mentions: PostingResult['mentions'], timeoutMs = 90_000): Promise<Tally> {
  const expected = mentions.map((m) => `${m.recipient.id}:${m.postId}`)
  const read = async () => {
    const arrivals: string[] = []
    for (const f of feed.followers) {
      for (const n of await api.notifications(f)) if (n.type === 'mention') arrivals.push(`${f.id}:${String(n.data['postId'])}`)
    }
    return arrivals
  }
  return tally(expected, await settle(read, (a) => tally(expected, a).lost === 0, timeoutMs))
}

/**
 * Every accepted post stored once and on every follower's Redis and home timeline once (read
 * through the API first where Redis was the fault), and each @mention, when given, notified once.
 */
export async function expectPostsDelivered (t: TestContext, stack: FaultStack, api: Api, feed: Feed, accepted: string[],
  options: { readFirst?: boolean, mentions?: PostingResult['mentions'] } = {}): Promise<void> {
  const stored = await stack.db('timeline').query<{ id: string }>('SELECT id FROM posts WHERE author_id = $1', [feed.author.id])
  expectExactlyOnce(t, 'posts stored', tally(accepted, stored.rows.map((r) => r.id)))
  const reached = await postsReachedTimelines(stack, api, feed, accepted, { readFirst: options.readFirst ?? false })
  expectExactlyOnce(t, 'posts in followers\' home timelines', reached.api)
  expectExactlyOnce(t, 'posts on followers\' Redis timelines', reached.redis)
  if (options.mentions) expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, options.mentions))
}
