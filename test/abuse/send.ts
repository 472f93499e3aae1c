// Sending corpus cases through the gateway and judging the answers: a refusal is a 4xx
// problem document (RFC 9457) that names its status and title and shows no internals.
import type { AbuseCase } from './corpus.ts'
import type { Fixture } from './fixture.ts'
import { rawRequest, type RawResponse } from './raw-http.ts'

export function send (f: Fixture, abuse: AbuseCase): Promise<RawResponse> {
  const headers: Array<[string, string]> = []
  const isRaw = typeof abuse.body === 'string' || Buffer.isBuffer(abuse.body)
  const body = abuse.body === undefined ? undefined : isRaw ? abuse.body as string | Buffer : JSON.stringify(abuse.body)
  if (body !== undefined && abuse.contentType !== null) headers.push(['content-type', abuse.contentType ?? 'application/json'])
  if (abuse.as) headers.push(['authorization', `Bearer ${f[abuse.as].token}`])
  headers.push(...abuse.headers ?? [])
  return rawRequest(f.gateway, { method: abuse.method, path: abuse.path, headers, ...(body === undefined ? {} : { body }), ...(abuse.rawFraming ? { rawFraming: true } : {}) })
}

/** What is wrong with the answer to a request that must be refused; empty when it is right. */
export function refusalDefects (method: string, response: RawResponse, expected?: number): string[] {
  const defects: string[] = []
  if (response.status < 400 || response.status > 499) defects.push(`status ${response.status}, not a 4xx`)
  if (expected !== undefined && response.status !== expected) defects.push(`status ${response.status}, expected ${expected}`)
  if (!/^application\/problem\+json\b/.test(response.headers['content-type'] ?? '')) defects.push(`content-type ${response.headers['content-type'] ?? '(none)'}`)
  if (method !== 'HEAD') {
    const problem = response.json as { status?: unknown, title?: unknown } | undefined
    if (problem?.status !== response.status) defects.push(`problem status ${String(problem?.status)}`)
    if (typeof problem?.title !== 'string' || problem.title === '') defects.push('problem without a title')
  }
  if (/\.ts:\d+|node_modules|\n\s+at /.test(response.body.toString('utf8'))) defects.push('a stack trace in the body')
  return defects
}

/** Runs `task` over `items`, `concurrency` at a time. */
export async function forEachConcurrently<T> (items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]!)
  }))
}
