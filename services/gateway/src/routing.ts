// The public API's routing table: which upstream owns a request, which rate-limit policy it
// counts against, and whether it needs a user. Anything not listed is a 404 at the edge.
export type Upstream = 'shortener' | 'timeline' | 'notifier'
export type PolicyName = 'redirect' | 'read' | 'write' | 'login'
export type AuthRequirement = 'required' | 'optional' | 'none'

export interface Route {
  /** The route as documented, e.g. "GET /api/v1/urls/{code}": the label of per-route metrics. */
  name: string
  upstream: Upstream
  policy: PolicyName
  auth: AuthRequirement
  /** Long-lived responses (SSE): no body timeout, never retried. */
  streaming?: boolean
}

interface Rule { methods: readonly string[], template: string, path: RegExp, upstream: Upstream, auth: AuthRequirement, policy?: PolicyName, streaming?: boolean }

const ID = '[0-9]{1,19}'
const CODE = '[A-Za-z0-9_-]{3,32}'
const READ = ['GET', 'HEAD'] as const

const RULES: Rule[] = [
  { methods: ['POST'], template: '/api/v1/urls', path: /^\/api\/v1\/urls$/, upstream: 'shortener', auth: 'optional' },
  { methods: [...READ], template: '/api/v1/urls/{code}', path: new RegExp(`^/api/v1/urls/${CODE}$`), upstream: 'shortener', auth: 'none' },
  { methods: ['DELETE'], template: '/api/v1/urls/{code}', path: new RegExp(`^/api/v1/urls/${CODE}$`), upstream: 'shortener', auth: 'required' },
  { methods: [...READ], template: '/api/v1/urls/{code}/redirect', path: new RegExp(`^/api/v1/urls/${CODE}/redirect$`), upstream: 'shortener', auth: 'none', policy: 'redirect' },
  { methods: [...READ], template: '/api/v1/me/urls', path: /^\/api\/v1\/me\/urls$/, upstream: 'shortener', auth: 'required' },
  { methods: ['POST'], template: '/api/v1/users', path: /^\/api\/v1\/users$/, upstream: 'timeline', auth: 'none', policy: 'login' },
  { methods: ['POST'], template: '/api/v1/auth/token', path: /^\/api\/v1\/auth\/token$/, upstream: 'timeline', auth: 'none', policy: 'login' },
  { methods: [...READ], template: '/api/v1/users/by-handle/{handle}', path: /^\/api\/v1\/users\/by-handle\/[A-Za-z0-9_]{3,30}$/, upstream: 'timeline', auth: 'none' },
  { methods: [...READ], template: '/api/v1/users/{id}[/posts]', path: new RegExp(`^/api/v1/users/${ID}(/posts)?$`), upstream: 'timeline', auth: 'none' },
  { methods: ['PUT', 'DELETE'], template: '/api/v1/me/following/{userId}', path: new RegExp(`^/api/v1/me/following/${ID}$`), upstream: 'timeline', auth: 'required' },
  { methods: ['POST'], template: '/api/v1/posts', path: /^\/api\/v1\/posts$/, upstream: 'timeline', auth: 'required' },
  { methods: [...READ], template: '/api/v1/posts/{id}', path: new RegExp(`^/api/v1/posts/${ID}$`), upstream: 'timeline', auth: 'none' },
  { methods: [...READ], template: '/api/v1/timeline', path: /^\/api\/v1\/timeline$/, upstream: 'timeline', auth: 'required' },
  { methods: [...READ], template: '/api/v1/notifications/stream', path: /^\/api\/v1\/notifications\/stream$/, upstream: 'notifier', auth: 'required', streaming: true },
  { methods: [...READ], template: '/api/v1/notifications', path: /^\/api\/v1\/notifications$/, upstream: 'notifier', auth: 'required' },
  { methods: ['PUT'], template: '/api/v1/notifications/preferences', path: /^\/api\/v1\/notifications\/preferences$/, upstream: 'notifier', auth: 'required' },
  { methods: ['POST'], template: '/api/v1/notifications/read', path: /^\/api\/v1\/notifications\/read$/, upstream: 'notifier', auth: 'required' },
  { methods: [...READ], template: '/{code}', path: new RegExp(`^/${CODE}$`), upstream: 'shortener', auth: 'none', policy: 'redirect' }
]

/** The route for a request, or undefined (404). `path` excludes the query string. */
export function matchRoute (method: string, path: string): Route | undefined {
  const rule = RULES.find((r) => r.methods.includes(method) && r.path.test(path))
  if (!rule) return undefined
  const policy = rule.policy ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write')
  return { name: `${method} ${rule.template}`, upstream: rule.upstream, policy, auth: rule.auth, ...(rule.streaming ? { streaming: true } : {}) }
}

/** Paths that exist with another method: 405 rather than 404. */
export function pathExists (path: string): boolean {
  return RULES.some((r) => r.path.test(path))
}
