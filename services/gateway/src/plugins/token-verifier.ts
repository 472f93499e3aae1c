// Access-token verification against the timeline's JWKS (auth/jwt-verifier.ts), as
// app.tokenVerifier: the gateway is the only place a token is checked.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createVerifier, type Verifier } from '../auth/jwt-verifier.ts'

declare module 'fastify' {
  interface FastifyInstance {
    tokenVerifier: Verifier
  }
}

export default fp(async function tokenVerifier (app: FastifyInstance, options: { jwksUrl: string }) {
  app.decorate('tokenVerifier', createVerifier(options.jwksUrl))
}, { name: 'token-verifier' })
