// The UI's only way to the system: the public API under /api/v1, as any client would call it.
// Every call leaves a record for the "under the hood" panel, read from what the API answers:
// the trace id (traceresponse), the rate-limit budget (RateLimit-* headers), the cache outcome
// (Cache-Status) and, for timelines, where each item came from.

export interface Problem {
  type?: string
  title: string
  status: number
  detail?: string
  code?: string
  errors?: Array<{ pointer?: string, message?: string }>
}

/** A failed call: the problem document the API sent, and when to retry if it said. */
export class ApiError extends Error {
  readonly problem: Problem
  readonly retryAfterSeconds: number | null
  constructor (problem: Problem, retryAfterSeconds: number | null) {
    super(problem.detail ?? problem.title)
    this.problem = problem
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export interface HoodRecord {
  id: number
  at: Date
  action: string
  method: string
  path: string
  status: number
  traceId: string | null
  rateLimit: { policy: string, remaining: number, limit: number, resetSeconds: number } | null
  /** Cache-Status of a redirect lookup, in words. */
  cache: string | null
  /** Timeline reads: how many items were pushed at write time and pulled at read time. */
  sources: { push: number, pull: number } | null
}

type Listener = (records: readonly HoodRecord[]) => void
let records: HoodRecord[] = []
const listeners = new Set<Listener>()
let nextId = 1

export const hood = {
  subscribe (listener: Listener): () => void {
    listeners.add(listener)
    listener(records)
    return () => { listeners.delete(listener) }
  },
  add (record: Omit<HoodRecord, 'id' | 'at'>) {
    records = [{ ...record, id: nextId++, at: new Date() }, ...records].slice(0, 30)
    for (const listener of listeners) listener(records)
  }
}

let token: string | null = sessionStorage.getItem('shortfeed.token')

export function setToken (value: string | null) {
  token = value
  if (value === null) sessionStorage.removeItem('shortfeed.token')
  else sessionStorage.setItem('shortfeed.token', value)
}

export function authHeader (): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {}
}

export type CacheOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass'

export const CACHE_WORDS: Record<CacheOutcome, string> = {
  hit: 'cache hit (Redis)',
  miss: 'cache miss: read from the database, then cached',
  coalesced: 'coalesced: waited for another request\'s database read',
  bypass: 'database read (cache off)'
}

/** RFC 9211's `link-cache; fwd=miss; collapsed` and friends, in words. */
export function describeCacheStatus (value: string | null): string | null {
  if (!value) return null
  const outcome: CacheOutcome | null = /collapsed/.test(value)
    ? 'coalesced'
    : /fwd=bypass/.test(value) ? 'bypass' : /fwd=miss/.test(value) ? 'miss' : /\bhit\b/.test(value) ? 'hit' : null
  return outcome ? CACHE_WORDS[outcome] : value
}

function rateLimitOf (headers: Headers): HoodRecord['rateLimit'] {
  const remaining = headers.get('ratelimit-remaining')
  if (remaining === null) return null
  return {
    policy: /name="([^"]+)"/.exec(headers.get('ratelimit-policy') ?? '')?.[1] ?? '',
    remaining: Number(remaining),
    limit: Number(headers.get('ratelimit-limit')),
    resetSeconds: Number(headers.get('ratelimit-reset'))
  }
}

/** The trace id in `traceresponse: 00-<trace>-<span>-01`. */
function traceIdOf (headers: Headers): string | null {
  return headers.get('traceresponse')?.split('-')[1] ?? null
}

async function problemOf (response: Response): Promise<Problem> {
  const text = await response.text()
  try {
    const parsed = JSON.parse(text) as Problem
    if (typeof parsed.title === 'string') return parsed
  } catch {}
  return { title: response.statusText || 'Error', status: response.status, detail: text.slice(0, 200) || undefined } as Problem
}

export interface CallOptions {
  /** What the user did, as the panel names it. */
  action: string
  body?: unknown
  headers?: Record<string, string>
}

export async function call<T> (method: string, path: string, options: CallOptions): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...authHeader(),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
    })
  } catch {
    throw new ApiError({
      title: 'Network error',
      status: 0,
      detail: 'The server could not be reached. Check that the stack is running, then try again.'
    }, null)
  }
  const data = response.ok && response.status !== 204 ? await response.json() as T : undefined
  const items = (data as { items?: Array<{ source?: string }> } | undefined)?.items
  const sources = path.startsWith('/api/v1/timeline') && Array.isArray(items)
    ? { push: items.filter((i) => i.source === 'push').length, pull: items.filter((i) => i.source === 'pull').length }
    : null
  hood.add({
    action: options.action,
    method,
    path,
    status: response.status,
    traceId: traceIdOf(response.headers),
    rateLimit: rateLimitOf(response.headers),
    cache: describeCacheStatus(response.headers.get('cache-status')),
    sources
  })
  if (!response.ok) {
    const retryAfter = response.headers.get('retry-after')
    throw new ApiError(await problemOf(response), retryAfter === null ? null : Number(retryAfter))
  }
  return data as T
}

/** A problem as a sentence a person can act on. */
export function describeError (err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err)
  const { problem, retryAfterSeconds } = err
  const fields = (problem.errors ?? [])
    .map((e) => [e.pointer?.replace(/^\/body\//, ''), e.message].filter(Boolean).join(': '))
    .filter(Boolean)
  const sentence = (text: string) => /[.!?]$/.test(text) ? text : `${text}.`
  const parts = [sentence(problem.detail && problem.detail !== problem.title ? `${problem.title}: ${problem.detail}` : problem.title)]
  if (fields.length > 0) parts.push(`(${fields.join('; ')})`)
  if (retryAfterSeconds !== null && Number.isFinite(retryAfterSeconds)) {
    parts.push(problem.status === 429
      ? `You can try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`
      : `Retry in ${retryAfterSeconds} s.`)
  }
  return parts.join(' ')
}

export interface Page<T> { items: T[], nextCursor: string | null }
export interface User { id: string, handle: string, displayName: string | null, followerCount: number, followingCount: number }
export interface Link {
  code: string
  shortUrl: string
  url: string
  createdAt: string
  expiresAt: string | null
  clicks?: number
  permanent?: boolean
}
export interface Post { id: string, authorId: string, authorHandle: string, text: string, createdAt: string, source?: 'push' | 'pull' }
export interface Notification { id: string, type: string, text: string, createdAt: string, updatedAt: string, read: boolean, seq: string }
export interface ClickStats {
  code: string
  from: string
  to: string
  granularity: 'hour' | 'day'
  total: number
  series: Array<{ at: string, clicks: number }>
  countries: Array<{ value: string, clicks: number }>
  referrers: Array<{ value: string, clicks: number }>
  devices: Array<{ value: string, clicks: number }>
}
export interface RedirectPreview { code: string, status: 301 | 302, location: string, cache: CacheOutcome }
