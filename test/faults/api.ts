// The fault tests' client for the public API, through the gateway like any user's. Setup calls
// throw on anything but success; the calls the load makes return the status instead, because
// counting failures is the point there.
import { randomBytes, randomUUID } from 'node:crypto'
import { apiCall, apiRequest, type ApiAnswer, type ApiRequestOptions } from '@shortfeed/infra/client'

export interface User { id: string, handle: string, token: string }

export type Answer<T = unknown> = ApiAnswer<T>

/** What a load call saw: an HTTP status, or 0 with the network error's text. */
export interface Outcome {
  status: number
  error?: string
}

export function createApi (gatewayUrl: string) {
  const request = <T>(method: string, path: string, options: ApiRequestOptions = {}): Promise<Answer<T>> =>
    apiRequest<T>(gatewayUrl, method, path, options)
  const ok = <T>(method: string, path: string, options: ApiRequestOptions = {}): Promise<T> => apiCall<T>(gatewayUrl, method, path, options)

  /** Every item of a cursor-paginated list, following nextCursor to the end. */
  async function all<T> (path: string, token: string): Promise<T[]> {
    const items: T[] = []
    let cursor: string | null = null
    do {
      const page: { items: T[], nextCursor: string | null } = await ok('GET', `${path}?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token })
      items.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    return items
  }

  return {
    request,

    async register (prefix: string): Promise<User> {
      const handle = `${prefix}_${randomBytes(5).toString('hex')}`
      const password = `fault-password-${handle}`
      const { id } = await ok<{ id: string }>('POST', '/api/v1/users', { body: { handle, password } })
      const { accessToken } = await ok<{ accessToken: string }>('POST', '/api/v1/auth/token', { body: { handle, password } })
      return { id, handle, token: accessToken }
    },

    async follow (user: User, followeeId: string): Promise<void> {
      await ok('PUT', `/api/v1/me/following/${followeeId}`, { token: user.token })
    },

    async shorten (user: User, url: string): Promise<string> {
      return (await ok<{ code: string }>('POST', '/api/v1/urls', { body: { url }, token: user.token })).code
    },

    /** A link with an Idempotency-Key, for the load: the answer, whatever it is. */
    async createLink (user: User, url: string, key: string): Promise<Answer<{ code: string }>> {
      return request('POST', '/api/v1/urls', { body: { url }, token: user.token, headers: { 'idempotency-key': key } })
    },

    /** The whole home timeline, newest first: every page. */
    timeline: (user: User) => all<{ id: string, authorId: string, text: string }>('/api/v1/timeline', user.token),

    notifications: (user: User) => all<{ id: string, type: string, data: Record<string, unknown> }>('/api/v1/notifications', user.token),

    async clicks (code: string): Promise<number> {
      return (await ok<{ clicks: number }>('GET', `/api/v1/urls/${code}`)).clicks
    },

    /** A post with an Idempotency-Key, so a retry after a failure cannot post twice. */
    async post (user: User, text: string, key: string = randomUUID()): Promise<Answer<{ id: string, code?: string }>> {
      return request('POST', '/api/v1/posts', { body: { text }, token: user.token, headers: { 'idempotency-key': key } })
    },

    async redirect (code: string): Promise<Answer> {
      return request('GET', `/${code}`)
    }
  }
}

export type Api = ReturnType<typeof createApi>

/** Runs a call and reduces it to its outcome: a status, or 0 and the network error. */
export async function outcomeOf (call: () => Promise<{ status: number }>): Promise<Outcome> {
  try {
    return { status: (await call()).status }
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    return { status: 0, error: cause?.code ?? cause?.message ?? (err as Error).message }
  }
}
