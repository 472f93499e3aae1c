// One OpenAPI document for the whole public API: the services' own documents (generated from
// their route schemas) merged, keeping only the paths the gateway routes. Refreshed in the
// background, so /docs works even when a service starts after the gateway.
import { matchRoute } from './routing.ts'

interface OpenApiDocument {
  openapi: string
  info: { title: string, version: string, description?: string }
  paths: Record<string, Record<string, unknown>>
  components?: { schemas?: Record<string, unknown>, securitySchemes?: Record<string, unknown> }
  tags?: Array<{ name: string }>
}

/** `/api/v1/urls/{code}` → a sample concrete path, to ask the routing table whether it is public. */
function samplePath (path: string): string {
  return path.replace(/\{[^}]+\}/g, (param) => (/id/i.test(param) ? '123' : 'abc1234'))
}

export function mergeDocuments (documents: OpenApiDocument[]): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'Shortfeed public API',
      version: '1',
      description: 'Everything a client can call, through the gateway. Errors are application/problem+json (RFC 9457). ' +
        'Every response carries RateLimit-Policy and RateLimit-Limit/-Remaining/-Reset (a 429 also Retry-After) and, ' +
        'when the request was traced, traceresponse: 00-<trace-id>-<span-id>-01 (W3C Trace Context).'
    },
    paths: {},
    components: { schemas: {}, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }
  }
  for (const document of documents) {
    for (const [path, operations] of Object.entries(document.paths ?? {})) {
      // Each operation says whether it takes the bearer token (so the docs UI's "Authorize"
      // applies to it): required, optional (an empty alternative), or not at all.
      const publicOperations: Record<string, unknown> = {}
      for (const [method, operation] of Object.entries(operations)) {
        const route = matchRoute(method.toUpperCase(), samplePath(path))
        if (!route) continue
        const security = route.auth === 'required' ? [{ bearer: [] }] : route.auth === 'optional' ? [{ bearer: [] }, {}] : undefined
        publicOperations[method] = security ? { ...(operation as object), security } : operation
      }
      if (Object.keys(publicOperations).length > 0) merged.paths[path] = { ...merged.paths[path], ...publicOperations }
    }
    Object.assign(merged.components!.schemas!, document.components?.schemas ?? {})
  }
  return merged
}

export function createOpenApiAggregator (sources: string[], refreshMs = 30_000) {
  let current = mergeDocuments([])
  async function refresh () {
    const documents = await Promise.all(sources.map(async (url) => {
      try {
        const response = await fetch(`${url}/openapi.json`, { signal: AbortSignal.timeout(2_000) })
        return response.ok ? await response.json() as OpenApiDocument : undefined
      } catch {
        return undefined
      }
    }))
    current = mergeDocuments(documents.filter((d): d is OpenApiDocument => d !== undefined))
  }
  const timer = setInterval(() => { void refresh() }, refreshMs)
  timer.unref()
  return {
    refresh,
    document: () => current,
    close: () => { clearInterval(timer) }
  }
}
