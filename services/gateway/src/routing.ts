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

interface Rule {
  methods: readonly string[]
  template: string
  path: RegExp
  upstream: Upstream
  auth: AuthRequirement
  policy?: PolicyName
  streaming?: boolean
}

/** What each `{param}` of a template may be: anything else is a 404 at the edge. */
const PARAMS: Record<string, string> = {
  code: '[A-Za-z0-9_-]{3,32}',
  id: '[0-9]{1,19}',
  userId: '[0-9]{1,19}',
  handle: '[A-Za-z0-9_]{3,30}'
}
const READ = ['GET', 'HEAD'] as const

/** `/api/v1/users/{id}[/posts]` → /^\/api\/v1\/users\/[0-9]{1,19}(?:\/posts)?$/ */
function pathPattern (template: string): RegExp {
  // Optional parts first: the parameters' patterns have brackets of their own.
  const source = template
    .replace(/\[([^\]]+)\]/g, '(?:$1)?')
    .replace(/\{(\w+)\}/g, (_m, name: string) => {
      const pattern = PARAMS[name]
      if (!pattern) throw new Error(`routing: no pattern for {${name}} in ${template}`)
      return pattern
    })
  return new RegExp(`^${source}$`)
}

function rule (
  methods: readonly string[], template: string, upstream: Upstream, auth: AuthRequirement, extra: Pick<Rule, 'policy' | 'streaming'> = {}
): Rule {
  return { methods, template, path: pathPattern(template), upstream, auth, ...extra }
}

const RULES: Rule[] = [
  rule(['POST'], '/api/v1/urls', 'shortener', 'optional'),
  rule(READ, '/api/v1/urls/{code}', 'shortener', 'none'),
  rule(['DELETE'], '/api/v1/urls/{code}', 'shortener', 'required'),
  rule(READ, '/api/v1/urls/{code}/redirect', 'shortener', 'none', { policy: 'redirect' }),
  rule(READ, '/api/v1/urls/{code}/stats', 'shortener', 'required'),
  rule(READ, '/api/v1/me/urls', 'shortener', 'required'),
  rule(['POST'], '/api/v1/users', 'timeline', 'none', { policy: 'login' }),
  rule(['POST'], '/api/v1/auth/token', 'timeline', 'none', { policy: 'login' }),
  rule(READ, '/api/v1/users/by-handle/{handle}', 'timeline', 'none'),
  rule(READ, '/api/v1/users/{id}[/posts]', 'timeline', 'none'),
  rule(['PUT', 'DELETE'], '/api/v1/me/following/{userId}', 'timeline', 'required'),
  rule(['POST'], '/api/v1/posts', 'timeline', 'required'),
  rule(READ, '/api/v1/posts/{id}', 'timeline', 'none'),
  rule(READ, '/api/v1/timeline', 'timeline', 'required'),
  rule(READ, '/api/v1/notifications/stream', 'notifier', 'required', { streaming: true }),
  rule(READ, '/api/v1/notifications', 'notifier', 'required'),
  rule(['PUT'], '/api/v1/notifications/preferences', 'notifier', 'required'),
  rule(['POST'], '/api/v1/notifications/read', 'notifier', 'required'),
  rule(READ, '/{code}', 'shortener', 'none', { policy: 'redirect' })
]

/** The route for a request, or undefined (404). `path` excludes the query string. */
export function matchRoute (method: string, path: string): Route | undefined {
  const rule = RULES.find((r) => r.methods.includes(method) && r.path.test(path))
  if (!rule) return undefined
  const policy = rule.policy ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write')
  return {
    name: `${method} ${rule.template}`,
    upstream: rule.upstream,
    policy,
    auth: rule.auth,
    ...(rule.streaming ? { streaming: true } : {})
  }
}

/** Paths that exist with another method: 405 rather than 404. */
export function pathExists (path: string): boolean {
  return RULES.some((r) => r.path.test(path))
}
