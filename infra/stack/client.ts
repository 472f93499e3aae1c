// One request to a stack's public API, as every client outside the services makes it (the
// bench, the fault matrix, the abuse suite, the end-to-end and compose tests): JSON in, a bearer
// token when given, redirects left to the caller, and the answer read whole — JSON when the
// service says so, text otherwise.

export interface ApiRequestOptions {
  body?: unknown
  token?: string | undefined
  headers?: Record<string, string>
  signal?: AbortSignal
}

export interface ApiAnswer<T = unknown> {
  status: number
  headers: Headers
  /** The parsed JSON body; the text where the answer is not JSON; undefined where it is empty. */
  body: T
}

export async function apiRequest<T = unknown> (baseUrl: string, method: string, path: string, options: ApiRequestOptions = {}): Promise<ApiAnswer<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {})
  })
  const text = await response.text()
  const json = /[/+]json\b/.test(response.headers.get('content-type') ?? '')
  const body = text === '' ? undefined : json ? JSON.parse(text) as unknown : text
  return { status: response.status, headers: response.headers, body: body as T }
}

/** The same, for a call that must succeed: anything from 400 up throws with what came back. */
export async function apiCall<T = unknown> (baseUrl: string, method: string, path: string, options: ApiRequestOptions = {}): Promise<T> {
  const answer = await apiRequest<T>(baseUrl, method, path, options)
  if (answer.status >= 400) throw new Error(`${method} ${path} → ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body
}
