import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CODE_LENGTH, CODE_SPACE, decodeBase62, encodeBase62 } from '../../src/codes/base62.ts'
import { createPermutation } from '../../src/codes/permutation.ts'

const permutation = createPermutation('unit-test-key')
const anyId = fc.integer({ min: 0, max: CODE_SPACE - 1 })

describe('base62', () => {
  test('every value in the code space encodes to 7 characters and decodes back', () => {
    fc.assert(fc.property(anyId, (id) => {
      const code = encodeBase62(id)
      return code.length === CODE_LENGTH && /^[0-9A-Za-z]{7}$/.test(code) && decodeBase62(code) === id
    }))
    assert.equal(encodeBase62(0), '0000000')
    assert.equal(encodeBase62(CODE_SPACE - 1), 'zzzzzzz')
  })

  test('values outside the code space are refused', () => {
    assert.throws(() => encodeBase62(CODE_SPACE), RangeError)
    assert.throws(() => encodeBase62(-1), RangeError)
    assert.throws(() => decodeBase62('abc'), RangeError)
  })
})

describe('keyed permutation', () => {
  test('is a bijection on the code space: unpermute(permute(id)) = id, so two ids never share a code', () => {
    fc.assert(fc.property(anyId, (id) => {
      const p = permutation.permute(id)
      return p >= 0 && p < CODE_SPACE && Number.isInteger(p) && permutation.unpermute(p) === id
    }), { numRuns: 20_000 })
  })

  test('distinct ids give distinct codes (property over pairs)', () => {
    fc.assert(fc.property(anyId, anyId, (a, b) => a === b || permutation.permute(a) !== permutation.permute(b)), { numRuns: 20_000 })
  })

  test('100 000 consecutive ids give 100 000 distinct codes with no visible order', () => {
    const codes = new Set<string>()
    let ascending = 0
    let previous = -1
    for (let id = 100; id < 100_100; id++) {
      const value = permutation.permute(id)
      codes.add(encodeBase62(value))
      if (value > previous) ascending++
      previous = value
    }
    assert.equal(codes.size, 100_000)
    // A monotone mapping would be ~100 % ascending; a random-looking one is about half.
    assert.ok(ascending > 45_000 && ascending < 55_000, `ascending steps: ${ascending}`)
  })

  test('another key gives another permutation', () => {
    const other = createPermutation('another-key')
    let same = 0
    for (let id = 0; id < 1_000; id++) if (other.permute(id) === permutation.permute(id)) same++
    assert.ok(same < 5)
  })
})
