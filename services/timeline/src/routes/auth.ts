// Access tokens and the JWKS that lets the gateway verify them.
import createError from '@fastify/error'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { untilClientLeaves } from '../auth/passwords.ts'
import { ProblemResponse, TokenBody, TokenResponse } from '../schemas/timeline.ts'

export const InvalidCredentials = createError('TIMELINE_INVALID_CREDENTIALS', 'The handle or the password is wrong', 401)

export default async function authRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { passwords, tokens } = fastify

  app.post('/api/v1/auth/token', {
    schema: {
      tags: ['auth'],
      summary: 'Exchange a handle and password for an access token',
      body: TokenBody,
      response: { 200: TokenResponse, 400: ProblemResponse, 401: ProblemResponse, 503: ProblemResponse }
    }
  }, async (request, reply) => {
    const found = await app.graph.findCredentials(request.body.handle)
    const signal = untilClientLeaves(reply.raw)
    // Same work whether or not the handle exists: timing must not tell which handles do.
    const valid = found
      ? await passwords.verify(request.body.password, found.passwordHash, signal)
      : await passwords.burn(request.body.password, signal)
    if (!found || !valid) throw new InvalidCredentials()
    // RFC 6749 §5.1: a response carrying a token must not be stored by any cache.
    return reply.header('cache-control', 'no-store').send(await tokens.issue(found.user))
  })

  app.get('/.well-known/jwks.json', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(tokens.jwks))
}
