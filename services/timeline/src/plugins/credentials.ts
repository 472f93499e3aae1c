// Passwords and access tokens for the auth and user routes: a scrypt hasher whose concurrency
// is bounded (a burst of sign-ins queues, then gets a 503, instead of starving the event loop)
// and the issuer that signs tokens and publishes the JWKS the gateway verifies them with.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createPasswordHasher, type PasswordHasher } from '../auth/passwords.ts'
import { createTokenIssuer, type TokenIssuer } from '../auth/tokens.ts'

export interface CredentialsOptions {
  hashConcurrency: number
  hashMaxWaitMs: number
  privateKeyPem: string
  tokenTtlSeconds: number
}

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
    tokens: TokenIssuer
  }
}

export default fp(async function credentials (app: FastifyInstance, options: CredentialsOptions) {
  app.decorate('passwords', createPasswordHasher({ concurrency: options.hashConcurrency, maxWaitMs: options.hashMaxWaitMs }))
  app.decorate('tokens', await createTokenIssuer(options.privateKeyPem, options.tokenTtlSeconds))
}, { name: 'credentials' })
