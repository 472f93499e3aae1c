// Password hashing with scrypt, a memory-hard KDF built into Node (no native addon to compile).
// N=2^15, r=8, p=3 is one of the equivalent minimums of OWASP's Password Storage Cheat Sheet
// (~210 ms per hash on the reference machine). Of those, it is the one with 32 MiB buffers:
// glibc maps those and returns them when a hash ends, while the 16 MiB of N=2^14, p=5 stayed in
// the thread pool's malloc arenas, +64 MB of RSS for good. Stored hashes carry their parameters,
// so older ones (N=2^15, r=8, p=1) still verify.
//
// Hashes run a few at a time (two by default: 64 MiB, and two of libuv's four threads, which DNS
// lookups and file reads share); the rest queue. A burst of logins is CPU the service cannot
// scale by waiting, so the queue is bounded in time: a hash that has not started within
// `maxWaitMs` is refused with a 503 and Retry-After. That answer comes before the gateway's
// upstream timeout, so a login flood reads as a deliberate 503, which does not trip the
// gateway's circuit breaker for the whole timeline service, where a 504 would. A hash whose
// client has gone (the gateway timed out, the user left) is dropped from the queue unrun.
import type { ServerResponse } from 'node:http'
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import createError from '@fastify/error'
import { createRetryableError } from '@shortfeed/common'
import pLimit from 'p-limit'

export const PasswordHashingBusy = createRetryableError(
  'TIMELINE_PASSWORD_HASHING_BUSY',
  'Too many sign-ins at once: try again in a moment',
  503
)
/** nginx's 499: nobody reads the answer, and it is logged as the client's doing, not a failure. */
export const ClientClosedRequest = createError('CLIENT_CLOSED_REQUEST', 'The client closed the request before its answer', 499)

const PARAMS = { N: 2 ** 15, r: 8, p: 3 }
const KEY_LENGTH = 32
const MAX_MEMORY = 64 * 1024 * 1024
const BUSY_RETRY_AFTER_SECONDS = 1

/** The stored form: the scheme, the parameters it was made with, the salt and the key. */
const stored = (salt: Buffer, key: Buffer) =>
  `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`

/** The key derivation itself: scrypt in production; tests pass one whose end they control. */
export type DeriveKey = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>

const deriveWithScrypt: DeriveKey = (password, salt, keylen, options) => new Promise<Buffer>((resolve, reject) => {
  scryptCallback(password, salt, keylen, options, (err, key) => { if (err) reject(err); else resolve(key) })
})

export interface PasswordHasherOptions {
  /** Hashes computed at once; each holds a libuv thread and 32 MiB. */
  concurrency?: number
  /** Longest a hash may wait for its turn before the request is refused with a 503. */
  maxWaitMs?: number
  deriveKey?: DeriveKey
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>

export function createPasswordHasher ({ concurrency = 2, maxWaitMs = 3_000, deriveKey = deriveWithScrypt }: PasswordHasherOptions = {}) {
  const limit = pLimit(concurrency)

  /** scrypt on its turn; rejects at once when the wait runs out or the signal aborts. */
  function scrypt (password: string, salt: Buffer, keylen: number, options: ScryptOptions, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted()
    const expired = new AbortController()
    const timer = setTimeout(() => { expired.abort(new PasswordHashingBusy(BUSY_RETRY_AFTER_SECONDS)) }, maxWaitMs)
    const cancel = signal ? AbortSignal.any([expired.signal, signal]) : expired.signal
    const turn = limit(() => {
      clearTimeout(timer)
      // Given up while queued: the turn passes to the next hash without computing this one.
      if (cancel.aborted) return undefined
      return deriveKey(password, salt, keylen, options)
    })
    const gaveUp = new Promise<never>((_resolve, reject) => {
      cancel.addEventListener('abort', () => { reject(cancel.reason) }, { once: true })
    })
    // Once started, a hash runs to the end (scrypt cannot be interrupted) and its result counts.
    return Promise.race([turn.then((key) => key ?? gaveUp), gaveUp]).finally(() => { clearTimeout(timer) })
  }

  async function hash (password: string, signal?: AbortSignal): Promise<string> {
    const salt = randomBytes(16)
    const key = await scrypt(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: MAX_MEMORY }, signal)
    return stored(salt, key)
  }

  async function verify (password: string, hashed: string, signal?: AbortSignal): Promise<boolean> {
    const [scheme, n, r, p, salt, key] = hashed.split('$')
    if (scheme !== 'scrypt' || !salt || !key) return false
    const expected = Buffer.from(key, 'base64url')
    const options = { N: Number(n), r: Number(r), p: Number(p), maxmem: MAX_MEMORY }
    const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, options, signal)
    return timingSafeEqual(expected, actual)
  }

  // Checking against this costs one hash with the current parameters, and never matches.
  const dummy = stored(randomBytes(16), randomBytes(KEY_LENGTH))

  return {
    hash,
    verify,
    /** Spends a hash's time when the user does not exist, so timing does not reveal which handles do. */
    async burn (password: string, signal?: AbortSignal): Promise<false> {
      await verify(password, dummy, signal)
      return false
    },
    /** Hashes running and waiting (for tests and diagnostics). */
    load: (): { running: number, waiting: number } => ({ running: limit.activeCount, waiting: limit.pendingCount })
  }
}

/**
 * Aborts when the client goes away before its answer is sent, so work queued on its behalf can
 * be dropped. (The request's own 'close' fires once its body is read; the response's does not.)
 */
export function untilClientLeaves (response: ServerResponse): AbortSignal {
  const controller = new AbortController()
  response.once('close', () => { if (!response.writableFinished) controller.abort(new ClientClosedRequest()) })
  return controller.signal
}
