// The data the abuse tests aim at, created through the gateway like any client would: two users,
// Alice's link (made with an Idempotency-Key), her post mentioning Bob, Bob following her, and
// the notifications that follow from it.
import assert from 'node:assert/strict'
import { apiRequest, type ApiRequestOptions } from '@shortfeed/infra/client'
import { eventually, uniqueName } from '../harness.ts'
import type { AbuseStack } from './stack.ts'

export interface User { id: string, handle: string, password: string, token: string }

export interface Fixture {
  gateway: string
  alice: User
  bob: User
  /** Alice's link: its code is the alias she chose. */
  link: { code: string, url: string, idempotencyKey: string }
  /** Alice's post, mentioning Bob. */
  post: string
  /** Alice's notifications (Bob followed her) and Bob's (Alice mentioned him). */
  notifications: { alice: string[], bob: string[] }
}

export interface CallResult { status: number, headers: Record<string, string>, json: Record<string, unknown> }

/** One well-formed request through the gateway, with a token when given; `json` is {} unless JSON came back. */
async function call (gateway: string, method: string, path: string, options: ApiRequestOptions = {}): Promise<CallResult> {
  const answer = await apiRequest<unknown>(gateway, method, path, options)
  const json = typeof answer.body === 'object' && answer.body !== null ? answer.body as Record<string, unknown> : {}
  return { status: answer.status, headers: Object.fromEntries(answer.headers), json }
}

export async function signUp (gateway: string, prefix: string): Promise<User> {
  const handle = uniqueName(prefix).slice(0, 30)
  const password = `pw ${uniqueName('secret')}`
  const created = await call(gateway, 'POST', '/api/v1/users', { body: { handle, password } })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  const token = await call(gateway, 'POST', '/api/v1/auth/token', { body: { handle, password } })
  assert.equal(token.status, 200, JSON.stringify(token.json))
  return { id: String(created.json['id']), handle, password, token: String(token.json['accessToken']) }
}

export async function notificationIds (gateway: string, user: User): Promise<string[]> {
  const page = await call(gateway, 'GET', '/api/v1/notifications', { token: user.token })
  return (page.json['items'] as Array<{ id: string }> | undefined ?? []).map((n) => n.id)
}

export async function createFixture (stack: AbuseStack): Promise<Fixture> {
  const gateway = stack.gateway
  const [alice, bob] = await Promise.all([signUp(gateway, 'alice'), signUp(gateway, 'bob')])
  const idempotencyKey = uniqueName('key')
  const code = uniqueName('a').replaceAll('_', '-').slice(0, 32)
  const url = 'https://example.com/abuse-fixture'
  const link = await call(gateway, 'POST', '/api/v1/urls', { token: alice.token, body: { url, alias: code }, headers: { 'idempotency-key': idempotencyKey } })
  assert.equal(link.status, 201, JSON.stringify(link.json))
  assert.equal((await call(gateway, 'PUT', `/api/v1/me/following/${alice.id}`, { token: bob.token })).status, 204)
  const post = await call(gateway, 'POST', '/api/v1/posts', { token: alice.token, body: { text: `hello @${bob.handle}` } })
  assert.equal(post.status, 201, JSON.stringify(post.json))
  const notifications = {
    alice: await eventually(() => notificationIds(gateway, alice), (ids) => ids.length === 1),
    bob: await eventually(() => notificationIds(gateway, bob), (ids) => ids.length === 1)
  }
  return { gateway, alice, bob, link: { code, url, idempotencyKey }, post: String(post.json['id']), notifications }
}

export { call }
