// Base62 at a fixed width: 7 characters cover 62^7 ≈ 3.5·10^12 codes.
export const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const CODE_LENGTH = 7
export const CODE_SPACE = 62 ** CODE_LENGTH

export function encodeBase62 (value: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= CODE_SPACE) throw new RangeError(`${value} is outside the code space`)
  let out = ''
  let rest = value
  for (let i = 0; i < CODE_LENGTH; i++) {
    out = ALPHABET[rest % 62]! + out
    rest = Math.floor(rest / 62)
  }
  return out
}

export function decodeBase62 (code: string): number {
  if (code.length !== CODE_LENGTH) throw new RangeError(`a code has ${CODE_LENGTH} characters`)
  let value = 0
  for (const ch of code) {
    const digit = ALPHABET.indexOf(ch)
    if (digit < 0) throw new RangeError(`${ch} is not a base62 digit`)
    value = value * 62 + digit
  }
  return value
}
