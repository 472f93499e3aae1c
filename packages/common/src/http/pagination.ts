// Cursor pagination as the API promises it: ?limit= (1–100, default 20) and an opaque ?cursor=;
// responses carry items and nextCursor (null at the end).
import createError from '@fastify/error'
import { Type, type Static } from 'typebox'
import { isInt64Id } from './ids.ts'

export const CursorInvalid = createError('CURSOR_INVALID', 'The cursor is not one this API issued', 400)

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' }))
}, { additionalProperties: false })
export type PageQuery = Static<typeof PageQuery>

export function pageOf<T extends ReturnType<typeof Type.Object>> (item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })
}

/** Cursors wrap a position (e.g. the last id seen) so clients cannot depend on its shape. */
export function encodeCursor (position: string): string {
  return Buffer.from(`v1:${position}`).toString('base64url')
}

/** The position inside a cursor; `valid` checks its shape (by default a 64-bit decimal id). */
export function decodeCursor (cursor: string, valid: RegExp | ((position: string) => boolean) = isInt64Id): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!text.startsWith('v1:')) throw new CursorInvalid()
  const position = text.slice(3)
  if (!(typeof valid === 'function' ? valid(position) : valid.test(position))) throw new CursorInvalid()
  return position
}
