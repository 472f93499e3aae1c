// GET /{code}: the hot path. Cache-aside lookup, 302 (or 301) with Location, 404 unknown,
// 410 expired or deleted; the click is handed to the buffered publisher, never awaited.
import createError from '@fastify/error'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { CodeParams, ProblemResponse } from '../schemas/urls.ts'
import { LinkGone, LinkNotFound } from './urls.ts'

export const LinkExpired = createError('SHORTENER_LINK_EXPIRED', 'The link "%s" has expired', 410)
export const LookupUnavailable = createError('SHORTENER_UNAVAILABLE', 'Links cannot be looked up right now; retry shortly', 503)

export interface RedirectOptions {
  /** The default status; a link created with permanent: true uses 301. */
  status: 301 | 302
}

export default async function redirectRoute (fastify: FastifyInstance, options: RedirectOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/:code', {
    // Every redirect is already a url.clicked event and a metric; an access-log line per
    // redirect would be the hot path's largest cost after the socket write. Errors still log.
    logLevel: 'warn',
    schema: {
      tags: ['redirect'],
      summary: 'Follow a short link',
      params: CodeParams,
      response: { 301: Type.Null({ description: 'permanent redirect to Location' }), 302: Type.Null({ description: 'redirect to Location' }), 404: ProblemResponse, 410: ProblemResponse, 503: ProblemResponse }
    }
  }, async (request, reply) => {
    const { code } = request.params
    let target
    try {
      target = await app.linkCache.resolve(code)
    } catch (err) {
      request.log.warn({ err }, 'link lookup failed')
      throw Object.assign(new LookupUnavailable(), { retryAfterSeconds: 5 })
    }
    if (target === null) throw new LinkNotFound(code)
    if (target.deleted) throw new LinkGone(code)
    if (target.expiresAt !== null && target.expiresAt <= Date.now()) throw new LinkExpired(code)

    // HEAD is how link previews and checkers probe; only a GET is somebody following the link.
    if (request.method === 'GET') {
      app.clicks.publishClick({
        code,
        at: new Date().toISOString(),
        ...(request.headers.referer ? { referrer: request.headers.referer.slice(0, 2048) } : {}),
        ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'].slice(0, 1024) } : {})
      })
    }
    // A 301 is cached by browsers for good, so later clicks never reach us (nor the counts);
    // links that expire always get a 302 so the expiry is honoured.
    const permanent = (target.permanent || options.status === 301) && target.expiresAt === null
    return reply
      .header('cache-control', permanent ? 'public, max-age=86400' : 'private, max-age=0')
      .redirect(target.url, permanent ? 301 : 302)
  })
}
