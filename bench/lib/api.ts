// The bench's own client for the public API: setup goes through the gateway like any user's.
import { apiCall } from '@shortfeed/infra/client'

export interface User { id: string, handle: string, token: string }

export function createApi (gatewayUrl: string) {
  const call = <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
    apiCall<T>(gatewayUrl, method, path, { body, token })

  return {
    call,
    async register (handle: string): Promise<User> {
      const password = `bench-password-${handle}`
      const { id } = await call<{ id: string }>('POST', '/api/v1/users', { handle, password })
      const { accessToken } = await call<{ accessToken: string }>('POST', '/api/v1/auth/token', { handle, password })
      return { id, handle, token: accessToken }
    },
    async shorten (user: User, url: string): Promise<string> {
      return (await call<{ code: string }>('POST', '/api/v1/urls', { url }, user.token)).code
    },
    async follow (user: User, followeeId: string): Promise<void> {
      await call('PUT', `/api/v1/me/following/${followeeId}`, undefined, user.token)
    },
    async post (user: User, text: string): Promise<string> {
      return (await call<{ id: string }>('POST', '/api/v1/posts', { text }, user.token)).id
    }
  }
}

export type Api = ReturnType<typeof createApi>
