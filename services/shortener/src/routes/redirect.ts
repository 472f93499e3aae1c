// GET /{code}: the hot path. Cache-aside lookup, 302 (or 301) with Location, 404 unknown,
// 410 expired or deleted; the click is handed to the buffered publisher, never awaited.
// Every answer says how the lookup went in Cache-Status (RFC 9211).
//
// GET /api/v1/urls/{code}/redirect: the same lookup answered as JSON, without counting a click.
// A browser hides a redirect's headers from scripts (an "opaque redirect"), so this is how the
// web UI shows what the cache did; curl -I /{code} shows the same header on the redirect itself.
import createError from '@fastify/error'
import { createRetryableError } from '@shortfeed/common'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { CacheOutcome, RedirectTarget } from '../plugins/link-cache.ts'
import { CodeParams, ProblemResponse } from '../schemas/urls.ts'
import { LinkGone, LinkNotFound } from './urls.ts'

export const LinkExpired = createError('SHORTENER_LINK_EXPIRED', 'The link "%s" has expired', 410)
export const LookupUnavailable = createRetryableError('SHORTENER_UNAVAILABLE', 'Links cannot be looked up right now; retry shortly', 503)

export interface RedirectOptions {
  /** The default status; a link created with permanent: true uses 301. */
  status: 301 | 302
}

const CACHE_STATUS: Record<CacheOutcome, string> = {
  hit: 'link-cache; hit',
  miss: 'link-cache; fwd=miss',
  coalesced: 'link-cache; fwd=miss; collapsed',
  bypass: 'link-cache; fwd=bypass'
}

const RedirectPreview = Type.Object({
  code: Type.String(),
  status: Type.Union([Type.Literal(301), Type.Literal(302)]),
  location: Type.String(),
  cache: Type.Union([Type.Literal('hit'), Type.Literal('miss'), Type.Literal('coalesced'), Type.Literal('bypass')], {
    description: 'how the lookup was answered: Redis, a database read, a wait for another request\'s read, ' +
      'or the database with the cache off'
  })
})

const cacheStatusHeader = {
  'cache-status': Type.String({
    description: 'RFC 9211: "link-cache; hit", "link-cache; fwd=miss", "link-cache; fwd=miss; collapsed" or "link-cache; fwd=bypass"'
  })
}

export default async function redirectRoute (fastify: FastifyInstance, options: RedirectOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  /** The live target for a code and how the cache answered, or the problem that stops it. */
  async function lookup (
    code: string, request: FastifyRequest, reply: FastifyReply
  ): Promise<{ target: RedirectTarget, status: 301 | 302, outcome: CacheOutcome }> {
    let resolution
    try {
      resolution = await app.linkCache.resolve(code)
    } catch (err) {
      request.log.warn({ err }, 'link lookup failed')
      throw new LookupUnavailable(5)
    }
    void reply.header('cache-status', CACHE_STATUS[resolution.outcome])
    const { target } = resolution
    if (target === null) throw new LinkNotFound(code)
    if (target.deleted) throw new LinkGone(code)
    if (target.expiresAt !== null && target.expiresAt <= Date.now()) throw new LinkExpired(code)
    // A 301 is cached by browsers for good, so later clicks never reach us (nor the counts);
    // links that expire always get a 302 so the expiry is honoured.
    const permanent = (target.permanent || options.status === 301) && target.expiresAt === null
    return { target, status: permanent ? 301 : 302, outcome: resolution.outcome }
  }

  app.get('/:code', {
    // Every redirect is already a url.clicked event and a metric; an access-log line per
    // redirect would be the hot path's largest cost after the socket write. Errors still log.
    logLevel: 'warn',
    schema: {
      tags: ['redirect'],
      summary: 'Follow a short link',
      params: CodeParams,
      response: {
        301: Type.Null({ description: 'permanent redirect to Location', headers: cacheStatusHeader }),
        302: Type.Null({ description: 'redirect to Location', headers: cacheStatusHeader }),
        404: ProblemResponse,
        410: ProblemResponse,
        503: ProblemResponse
      }
    }
  }, async (request, reply) => {
    const { code } = request.params
    const { target, status } = await lookup(code, request, reply)
    // HEAD is how link previews and checkers probe; only a GET is somebody following the link.
    if (request.method === 'GET') {
      app.clicks.publishClick({
        code,
        at: new Date().toISOString(),
        ...(request.headers.referer ? { referrer: request.headers.referer.slice(0, 2048) } : {}),
        ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'].slice(0, 1024) } : {})
      }, request.ip)
    }
    return reply
      .header('cache-control', status === 301 ? 'public, max-age=86400' : 'private, max-age=0')
      .redirect(target.url, status)
  })

  app.get('/api/v1/urls/:code/redirect', {
    schema: {
      tags: ['redirect'],
      summary: 'What GET /{code} would answer, as JSON, without counting a click',
      params: CodeParams,
      response: {
        200: { ...RedirectPreview, headers: cacheStatusHeader },
        404: ProblemResponse,
        410: ProblemResponse,
        503: ProblemResponse
      }
    }
  }, async (request, reply) => {
    const { code } = request.params
    const { target, status, outcome } = await lookup(code, request, reply)
    void reply.header('cache-control', 'no-store')
    return { code, status, location: target.url, cache: outcome }
  })
}
