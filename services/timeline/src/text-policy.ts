// What a post or a display name may contain. Text is NFC-normalised and trimmed; its length is
// counted in characters (code points), not UTF-16 units, so an emoji counts once.
import createError from '@fastify/error'

export const TextRefused = createError('TIMELINE_TEXT_REFUSED', '%s', 400)
export const MAX_POST_LENGTH = 280

// C0/C1 controls other than tab and newlines, and the bidi overrides used to disguise text.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

export function checkPostText (raw: string): string {
  const text = raw.normalize('NFC').trim()
  const length = [...text].length
  if (length === 0) throw new TextRefused('A post needs some text')
  if (length > MAX_POST_LENGTH) throw new TextRefused(`A post is at most ${MAX_POST_LENGTH} characters (this one has ${length})`)
  if (FORBIDDEN.test(text)) throw new TextRefused('The text contains control or bidirectional-override characters')
  return text
}

export function checkDisplayName (raw: string | undefined): string | null {
  if (raw === undefined) return null
  const name = raw.normalize('NFC').trim()
  if (name.length === 0) return null
  if (FORBIDDEN.test(name) || /[\r\n\t]/.test(name)) throw new TextRefused('The display name contains control characters')
  return name
}
