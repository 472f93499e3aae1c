// Identity passed from the gateway to the services. The gateway verifies the user's JWT and
// forwards the user id with an HMAC over it and a timestamp; a service trusts the id only
// with a valid, fresh signature, so a client reaching a service directly cannot claim to be
// anyone. The gateway strips any incoming copies of these headers.
import { createHmac, timingSafeEqual } from 'node:crypto'
import createError from '@fastify/error'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { secret } from '../config.ts'

export const IdentityHeaders = {
  userId: 'x-shortfeed-user-id',
  signature: 'x-shortfeed-identity'
} as const

export const identityConfig = {
  /** Shared by the gateway (signs) and the services (verify). */
  INTERNAL_AUTH_SECRET: secret('development-internal-auth-secret', { minLength: 24 })
}

const MAX_AGE_SECONDS = 60

export const AuthenticationRequired = createError(
  'AUTH_REQUIRED',
  'This operation needs an authenticated user (Authorization: Bearer <token>)',
  401
)
export const IdentityInvalid = createError('AUTH_IDENTITY_INVALID', 'The forwarded identity is not valid', 401)

function mac (secretKey: string, userId: string, timestamp: number): string {
  return createHmac('sha256', secretKey).update(`${userId}.${timestamp}`).digest('base64url')
}

/** Headers the gateway adds for a verified user. */
export function signIdentity (secretKey: string, userId: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    [IdentityHeaders.userId]: userId,
    [IdentityHeaders.signature]: `v1.${nowSeconds}.${mac(secretKey, userId, nowSeconds)}`
  }
}

/** The verified user id, null when no identity was forwarded; throws on a forged or stale one. */
export function verifyIdentity (
  secretKey: string, headers: Record<string, string | string[] | undefined>, nowSeconds = Math.floor(Date.now() / 1000)
): string | null {
  const userId = headers[IdentityHeaders.userId]
  const signature = headers[IdentityHeaders.signature]
  if (userId === undefined && signature === undefined) return null
  if (typeof userId !== 'string' || typeof signature !== 'string' || userId.length === 0 || userId.length > 64) throw new IdentityInvalid()
  const [version, ts, given] = signature.split('.')
  const timestamp = Number(ts)
  if (version !== 'v1' || !Number.isInteger(timestamp) || given === undefined) throw new IdentityInvalid()
  if (Math.abs(nowSeconds - timestamp) > MAX_AGE_SECONDS) throw new IdentityInvalid()
  const expected = Buffer.from(mac(secretKey, userId, timestamp))
  const actual = Buffer.from(given)
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new IdentityInvalid()
  return userId
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The user the gateway vouched for, or null for an anonymous request. */
    userId: string | null
  }
}

/** Sets request.userId from the forwarded identity (401 problem when forged). */
export default fp(async function identity (app: FastifyInstance, options: { secret: string }) {
  app.decorateRequest('userId', null)
  app.addHook('onRequest', async (request) => {
    request.userId = verifyIdentity(options.secret, request.headers)
  })
}, { name: 'identity', fastify: '5.x' })

/** The authenticated user's id, or a 401 problem. */
export function requireUser (request: FastifyRequest): string {
  if (request.userId === null) throw new AuthenticationRequired()
  return request.userId
}
