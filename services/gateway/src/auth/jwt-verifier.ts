// Verifies access tokens against the timeline service's JWKS. jose's remote key set caches the
// keys and refetches when a token names an unknown kid (key rotation), with a cooldown so a
// flood of bad kids cannot hammer the JWKS endpoint. Only EdDSA is accepted: `alg: none`,
// HS256 signed with the public key (algorithm confusion) and anything else are refused.
//
// A verified token is remembered (LRU, by its exact text) until it expires or for
// VERIFIED_TTL_MS, whichever is sooner: an Ed25519 verification costs more CPU than everything
// else the gateway does for a request, and a client sends the same token on every call. The
// price: a signing key withdrawn from the JWKS stops being honoured up to VERIFIED_TTL_MS late.
import createError from '@fastify/error'
import { createRetryableError } from '@shortfeed/common'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import { LRUCache } from 'lru-cache'

export const TokenMissing = createError('AUTH_REQUIRED', 'This operation needs an access token: Authorization: Bearer <token>', 401)
export const TokenExpired = createError(
  'AUTH_TOKEN_EXPIRED',
  'The access token has expired; get a new one from POST /api/v1/auth/token',
  401
)
export const TokenInvalid = createError('AUTH_TOKEN_INVALID', 'The access token is not valid: %s', 401)
export const KeysUnavailable = createRetryableError('AUTH_KEYS_UNAVAILABLE', 'Tokens cannot be verified right now; retry shortly', 503)

export const TOKEN_ISSUER = 'shortfeed-timeline'
export const TOKEN_AUDIENCE = 'shortfeed'

export interface Verifier {
  /** The user id of a valid token; throws a 401 (or 503) problem error otherwise. */
  verify: (authorization: string | undefined) => Promise<string | null>
}

/** The longest a verified token is trusted without checking its signature again. */
export const VERIFIED_TTL_MS = 60_000
/** Distinct tokens remembered: ~1 KB each with the cache's own bookkeeping. */
const VERIFIED_MAX = 10_000
const CLOCK_TOLERANCE_SECONDS = 5

export function createVerifier (jwksUrl: string): Verifier {
  const keys = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
  const verified = new LRUCache<string, { sub: string, expiresAt: number }>({ max: VERIFIED_MAX })
  return {
    async verify (authorization) {
      if (authorization === undefined) return null
      const known = verified.get(authorization)
      if (known) {
        if (Date.now() < known.expiresAt) return known.sub
        verified.delete(authorization)
      }
      const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(authorization)
      if (!match) throw new TokenInvalid('expected "Bearer <jwt>"')
      try {
        // jose checks exp only when present: a token that never expires is refused, whoever signed it.
        const { payload } = await jwtVerify(match[1]!, keys, {
          algorithms: ['EdDSA'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS
        })
        if (typeof payload.sub !== 'string' || !/^\d{1,19}$/.test(payload.sub)) throw new TokenInvalid('no subject')
        // Expiry as jose judged it (with the tolerance), capped so a withdrawn key is not trusted for long.
        const expiresAt = Math.min((payload.exp! + CLOCK_TOLERANCE_SECONDS) * 1000, Date.now() + VERIFIED_TTL_MS)
        verified.set(authorization, { sub: payload.sub, expiresAt })
        return payload.sub
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new TokenExpired()
        if (err instanceof errors.JWKSTimeout || (err instanceof Error && /fetch failed|ECONNREFUSED/.test(err.message))) {
          throw new KeysUnavailable(5)
        }
        if (err instanceof errors.JOSEError) throw new TokenInvalid(err.code.replace(/^ERR_/, '').toLowerCase().replaceAll('_', ' '))
        throw err
      }
    }
  }
}
