// The links API: create (with Idempotency-Key), read with clicks, list the owner's links,
// one's own link's click analytics, delete one's own.
import createError from '@fastify/error'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  decodeCursor, encodeCursor, idempotencyKeyOf, PageQuery, pageOf, requireUser, withIdempotency
} from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { Link } from '../plugins/links-repository.ts'
import { toRedirectTarget } from '../plugins/link-cache.ts'
import { alignRange, MAX_POINTS, readClickStats } from '../clicks/stats.ts'
import { ClickStats, CodeParams, CreateLinkBody, LinkDetails, LinkResponse, ProblemResponse, StatsQuery } from '../schemas/urls.ts'
import { checkAlias, checkTargetUrl } from '../url-policy.ts'

export const LinkNotFound = createError('SHORTENER_LINK_NOT_FOUND', 'No link with code "%s"', 404)
export const LinkGone = createError('SHORTENER_LINK_GONE', 'The link "%s" was deleted', 410)
export const BadRange = createError('SHORTENER_BAD_RANGE', 'Bad time range: %s', 400)

export interface UrlRoutesOptions {
  publicBaseUrl: string
  selfHosts: ReadonlySet<string>
}

export default async function urlRoutes (fastify: FastifyInstance, options: UrlRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const view = (link: Link) => ({
    code: link.code,
    shortUrl: `${options.publicBaseUrl}/${link.code}`,
    url: link.url,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt?.toISOString() ?? null
  })
  const details = (link: Link) => ({ ...view(link), clicks: link.clicks, permanent: link.permanent })
  const problems = {
    400: ProblemResponse,
    401: ProblemResponse,
    404: ProblemResponse,
    409: ProblemResponse,
    410: ProblemResponse,
    422: ProblemResponse
  }

  app.post('/api/v1/urls', {
    schema: {
      tags: ['urls'],
      summary: 'Shorten a URL',
      body: CreateLinkBody,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
      response: { 201: LinkResponse, ...problems }
    }
  }, async (request, reply) => {
    const body = request.body
    const url = checkTargetUrl(body.url, options.selfHosts)
    const alias = body.alias === undefined ? undefined : checkAlias(body.alias)
    const key = idempotencyKeyOf(request.headers)
    const result = await withIdempotency(app.pg, { scope: request.userId ?? 'anonymous', key, body }, async (client) => {
      const link = await app.links.create(client, {
        url,
        alias,
        ownerId: request.userId,
        ttlSeconds: body.ttlSeconds,
        permanent: body.permanent ?? false
      })
      return { status: 201, body: view(link) }
    })
    if (!result.replayed) {
      await app.linkCache.store(result.body.code, {
        url,
        permanent: body.permanent ?? false,
        expiresAt: result.body.expiresAt ? Date.parse(result.body.expiresAt) : null,
        deleted: false
      })
    }
    if (result.replayed) void reply.header('idempotent-replayed', 'true')
    return reply.code(result.status).header('location', `/api/v1/urls/${result.body.code}`).send(result.body)
  })

  app.get('/api/v1/urls/:code', {
    schema: { tags: ['urls'], summary: 'A link with its click count', params: CodeParams, response: { 200: LinkDetails, ...problems } }
  }, async (request) => {
    const link = await app.links.findByCode(request.params.code)
    if (!link) throw new LinkNotFound(request.params.code)
    if (link.deletedAt) throw new LinkGone(request.params.code)
    return details(link)
  })

  app.get('/api/v1/urls/:code/stats', {
    schema: {
      tags: ['urls'],
      summary: 'Clicks on one of your links over time, by country, referrer and device',
      params: CodeParams,
      querystring: StatsQuery,
      response: { 200: ClickStats, ...problems }
    }
  }, async (request) => {
    const ownerId = requireUser(request)
    const link = await app.links.findByCode(request.params.code)
    // Another user's link and no link at all look the same, as for DELETE.
    if (!link || link.ownerId !== ownerId) throw new LinkNotFound(request.params.code)
    const to = request.query.to === undefined ? new Date() : new Date(request.query.to)
    const from = request.query.from === undefined ? new Date(to.getTime() - 7 * 86_400_000) : new Date(request.query.from)
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) throw new BadRange('`from` must be before `to`')
    const range = alignRange(from, to, request.query.granularity)
    if (range.points > MAX_POINTS) throw new BadRange(`at most ${MAX_POINTS} ${request.query.granularity}s in one series`)
    return readClickStats(app.pg, link.code, { ...range, granularity: request.query.granularity })
  })

  app.delete('/api/v1/urls/:code', {
    schema: { tags: ['urls'], summary: 'Delete one of your links', params: CodeParams, response: { 204: Type.Null(), ...problems } }
  }, async (request, reply) => {
    const ownerId = requireUser(request)
    // Another user's link and no link at all look the same: ids are not an oracle.
    if (!await app.links.softDelete(request.params.code, ownerId)) throw new LinkNotFound(request.params.code)
    const link = await app.links.findByCode(request.params.code)
    if (link) await app.linkCache.store(link.code, toRedirectTarget(link))
    return reply.code(204).send(null)
  })

  app.get('/api/v1/me/urls', {
    schema: {
      tags: ['urls'],
      summary: 'Your links, newest first',
      querystring: PageQuery,
      response: { 200: pageOf(LinkDetails), ...problems }
    }
  }, async (request) => {
    const ownerId = requireUser(request)
    const beforeId = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor)
    const links = await app.links.listByOwner(ownerId, request.query.limit + 1, beforeId)
    const page = links.slice(0, request.query.limit)
    const more = links.length > request.query.limit
    return { items: page.map(details), nextCursor: more ? encodeCursor(page.at(-1)!.id) : null }
  })
}
