// Follow and unfollow: PUT and DELETE on /me/following/{userId}, idempotent, 204 either way.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { requireUser } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { FollowParams, ProblemResponse } from '../schemas/timeline.ts'

export default async function followingRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const responses = { 204: Type.Null(), 400: ProblemResponse, 401: ProblemResponse, 404: ProblemResponse }

  app.put('/api/v1/me/following/:userId', {
    schema: { tags: ['following'], summary: 'Follow a user', params: FollowParams, response: responses }
  }, async (request, reply) => {
    await app.graph.follow(requireUser(request), request.params.userId)
    return reply.code(204).send(null)
  })

  app.delete('/api/v1/me/following/:userId', {
    schema: { tags: ['following'], summary: 'Unfollow a user', params: FollowParams, response: responses }
  }, async (request, reply) => {
    await app.graph.unfollow(requireUser(request), request.params.userId)
    return reply.code(204).send(null)
  })
}
