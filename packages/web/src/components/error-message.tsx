// A failed call shown as a sentence (the problem's title, detail, invalid fields, when to retry),
// announced to screen readers as it appears.
import { describeError } from '../api.ts'

export function ErrorMessage ({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null
  return <p class='error' role='alert'>{describeError(error)}</p>
}
