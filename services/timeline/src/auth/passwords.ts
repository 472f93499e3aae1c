// Password hashing with scrypt, a memory-hard KDF built into Node (no native addon to compile).
// N=2^15, r=8, p=3 is one of the equivalent minimums of OWASP's Password Storage Cheat Sheet
// (~360 ms per hash on the reference machine). Of those, it is the one with 32 MiB buffers:
// glibc maps those and returns them when a hash ends, while the 16 MiB of N=2^14, p=5 stayed in
// the thread pool's malloc arenas, +64 MB of RSS for good. Hashes run two at a time, the rest
// queue: a burst of logins or sign-ups costs at most 64 MiB and two of libuv's four threads
// (which DNS lookups and file reads share). Stored hashes carry their parameters, so older ones
// (N=2^15, r=8, p=1) still verify.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import pLimit from 'p-limit'

const HASHES_AT_ONCE = 2
const limit = pLimit(HASHES_AT_ONCE)

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => limit(() =>
  new Promise<Buffer>((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (err, key) => { if (err) reject(err); else resolve(key) })
  }))

const PARAMS = { N: 2 ** 15, r: 8, p: 3 }
const KEY_LENGTH = 32

/** Hashes running and waiting (for tests and diagnostics). */
export function passwordHashing (): { running: number, waiting: number } {
  return { running: limit.activeCount, waiting: limit.pendingCount }
}

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: 64 * 1024 * 1024 })
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64url')
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 })
  return timingSafeEqual(expected, actual)
}

/** Spends a hash's time when the user does not exist, so timing does not reveal which handles do. */
const DUMMY = hashPassword('not-a-real-password')
export async function burnPasswordCheck (password: string): Promise<false> {
  await verifyPassword(password, await DUMMY)
  return false
}
