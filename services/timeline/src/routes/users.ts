// Registration, profiles and a user's own posts.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { decodeCursor, encodeCursor, idempotencyKeyOf, PageQuery, pageOf, withIdempotency } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { untilClientLeaves } from '../auth/passwords.ts'
import { HandleNotFound, UserNotFound, type User } from '../plugins/social-graph.ts'
import { HandleParams, PostResponse, ProblemResponse, RegisterBody, UserParams, UserResponse } from '../schemas/timeline.ts'
import { checkDisplayName } from '../text-policy.ts'

export const userView = (user: User) => ({ ...user, createdAt: user.createdAt.toISOString() })

export default async function userRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const problems = { 400: ProblemResponse, 404: ProblemResponse, 409: ProblemResponse, 422: ProblemResponse }

  app.post('/api/v1/users', {
    schema: { tags: ['users'], summary: 'Register', body: RegisterBody, response: { 201: UserResponse, ...problems, 503: ProblemResponse } }
  }, async (request, reply) => {
    const displayName = checkDisplayName(request.body.displayName)
    const key = idempotencyKeyOf(request.headers)
    // The fingerprint leaves the password out: an unsalted hash of it must never be stored.
    const fingerprint = { handle: request.body.handle, displayName }
    // Hashed before the transaction: a queued hash must not hold a pooled connection.
    const passwordHash = await app.passwords.hash(request.body.password, untilClientLeaves(reply.raw))
    const result = await withIdempotency(app.pg, { scope: `register:${request.ip}`, key, body: fingerprint }, async (client) => {
      const user = await app.graph.createUser(client, { handle: request.body.handle, passwordHash, displayName })
      return { status: 201, body: userView(user) }
    })
    return reply.code(result.status).header('location', `/api/v1/users/${result.body.id}`).send(result.body)
  })

  app.get('/api/v1/users/:id', {
    schema: {
      tags: ['users'],
      summary: 'A profile with follower and following counts',
      params: UserParams,
      response: { 200: UserResponse, ...problems }
    }
  }, async (request) => {
    const user = await app.graph.findUser(request.params.id)
    if (!user) throw new UserNotFound(request.params.id)
    return userView(user)
  })

  app.get('/api/v1/users/by-handle/:handle', {
    schema: {
      tags: ['users'],
      summary: 'A profile by handle (any case)',
      params: HandleParams,
      response: { 200: UserResponse, ...problems }
    }
  }, async (request) => {
    const found = await app.graph.findCredentials(request.params.handle)
    if (!found) throw new HandleNotFound(request.params.handle)
    return userView(found.user)
  })

  app.get('/api/v1/users/:id/posts', {
    schema: {
      tags: ['posts'],
      summary: 'A user\'s posts, newest first',
      params: UserParams,
      querystring: PageQuery,
      response: { 200: pageOf(PostResponse), ...problems }
    }
  }, async (request) => {
    if (!await app.graph.findUser(request.params.id)) throw new UserNotFound(request.params.id)
    const before = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor)
    const posts = await app.posts.byAuthor(request.params.id, request.query.limit + 1, before)
    const page = posts.slice(0, request.query.limit)
    return { items: page, nextCursor: posts.length > request.query.limit ? encodeCursor(page.at(-1)!.id) : null }
  })
}
