// A keyed, reversible permutation of [0, 62^7): consecutive ids map to codes that look random,
// so codes cannot be enumerated from one another, yet two ids never share a code.
//
// A 4-round Feistel network over 42 bits (two 21-bit halves) is a bijection on [0, 2^42) for
// any round function; cycle-walking (re-encrypt until the value falls below 62^7) restricts
// it to a bijection on [0, 62^7) because 62^7 < 2^42 and every cycle of the permutation that
// enters the domain leaves it only to come back. Round function: HMAC-SHA256 of the round
// number and half, keyed by CODE_PERMUTATION_KEY (a secret: with it the order is recoverable).
import { createHmac } from 'node:crypto'
import { CODE_SPACE } from './base62.ts'

const HALF_BITS = 21
const HALF_MASK = (1 << HALF_BITS) - 1
const ROUNDS = 4

export interface Permutation {
  permute: (id: number) => number
  unpermute: (value: number) => number
}

export function createPermutation (key: string): Permutation {
  const round = (r: number, half: number): number => {
    const input = Buffer.alloc(5)
    input.writeUInt8(r, 0)
    input.writeUInt32BE(half, 1)
    return createHmac('sha256', key).update(input).digest().readUIntBE(0, 3) & HALF_MASK
  }

  const encrypt = (value: number): number => {
    let left = Math.floor(value / 2 ** HALF_BITS)
    let right = value & HALF_MASK
    for (let r = 0; r < ROUNDS; r++) [left, right] = [right, left ^ round(r, right)]
    return left * 2 ** HALF_BITS + right
  }

  const decrypt = (value: number): number => {
    let left = Math.floor(value / 2 ** HALF_BITS)
    let right = value & HALF_MASK
    for (let r = ROUNDS - 1; r >= 0; r--) [left, right] = [right ^ round(r, left), left]
    return left * 2 ** HALF_BITS + right
  }

  const walk = (value: number, step: (v: number) => number): number => {
    if (!Number.isSafeInteger(value) || value < 0 || value >= CODE_SPACE) throw new RangeError(`${value} is outside the code space`)
    let v = step(value)
    while (v >= CODE_SPACE) v = step(v)
    return v
  }

  return {
    permute: (id) => walk(id, encrypt),
    unpermute: (value) => walk(value, decrypt)
  }
}
