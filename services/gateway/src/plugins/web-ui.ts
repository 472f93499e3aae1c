// The web UI (packages/web, built by Vite) at `/`, its assets under `/_/`. No short code or
// alias can be `_` (codes are 3 to 32 characters) or contain a slash, so the prefix can never
// shadow a link, nor a link the UI. The UI is a client like any other: it calls /api/v1 only.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import { sendProblem } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const WEB_PREFIX = '/_/'

export interface WebUiOptions {
  /** The Vite build (index.html and assets/). */
  root: string
  /** Jaeger's UI, for the "under the hood" panel's trace links; null where there is none. */
  traceUiUrl: string | null
}

// The page runs only its own bundle; styles are the bundle's too, QR codes are inline SVG.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"
].join('; ')

/**
 * packages/web/dist next to this package, from src/ (development) or dist/src/ (built), in the
 * repository as in the gateway's image.
 */
export function defaultWebRoot (from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'packages', 'web', 'dist')
    if (existsSync(candidate)) return candidate
  }
  return join(from, 'packages', 'web', 'dist')
}

export default fp(async function webUi (app: FastifyInstance, options: WebUiOptions) {
  const built = existsSync(join(options.root, 'index.html'))
  if (!built) app.log.warn({ root: options.root }, 'web UI not built: / answers 404 (pnpm --filter @shortfeed/web build)')

  await app.register(fastifyStatic, {
    root: options.root,
    prefix: WEB_PREFIX,
    index: false,
    wildcard: true,
    // Vite names assets by content hash: a name never changes meaning.
    setHeaders: (res, path) => {
      void res.header('cache-control', path.startsWith(join(options.root, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache')
    }
  })

  app.get('/', async (_request, reply) => {
    if (!built) {
      return sendProblem(reply, {
        type: 'urn:shortfeed:problem:ui-not-built',
        title: 'Not Found',
        status: 404,
        code: 'GATEWAY_UI_NOT_BUILT',
        detail: 'The web UI has not been built: run `pnpm --filter @shortfeed/web build` (./run stack does it).',
        instance: '/'
      })
    }
    return reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .sendFile('index.html')
  })

  // What the UI cannot know by itself: where traces can be looked at.
  app.get(`${WEB_PREFIX}config.json`, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send({ traceUiUrl: options.traceUiUrl }))
}, { name: 'web-ui' })
