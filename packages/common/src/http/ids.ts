// Ids in the API are 64-bit integers written as decimal strings (Postgres bigint). Nineteen
// digits can still exceed the range (9999999999999999999): such an id is a 400 here, not a
// database error later.
import { Type } from 'typebox'

const INT64_MAX = 9_223_372_036_854_775_807n

/** The ajv format every service's validator knows (registered by createServer). */
export const ID_FORMAT = 'int64-decimal'

export function isInt64Id (value: string): boolean {
  return /^\d{1,19}$/.test(value) && BigInt(value) <= INT64_MAX
}

/** The schema of an id in a path, query, header or body. */
export function IdString (options: { description?: string } = {}) {
  return Type.String({ pattern: '^[0-9]{1,19}$', format: ID_FORMAT, description: options.description ?? 'a 64-bit id as a decimal string' })
}
