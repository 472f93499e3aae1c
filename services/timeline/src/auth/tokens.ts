// Access tokens: short-lived JWTs signed with an Ed25519 key (EdDSA). The public half is served
// as a JWKS, so the gateway verifies tokens without sharing a secret, and rotating the key is a
// matter of publishing the new one under another kid.
import { calculateJwkThumbprint, exportJWK, importPKCS8, SignJWT, type JWK } from 'jose'
import { createPublicKey } from 'node:crypto'

export const TOKEN_ISSUER = 'shortfeed-timeline'
export const TOKEN_AUDIENCE = 'shortfeed'

export interface TokenIssuer {
  issue: (user: { id: string, handle: string }) => Promise<{ accessToken: string, tokenType: 'Bearer', expiresIn: number }>
  jwks: { keys: JWK[] }
}

export async function createTokenIssuer (privateKeyPem: string, ttlSeconds: number): Promise<TokenIssuer> {
  const pem = privateKeyPem.replace(/\\n/g, '\n')
  const privateKey = await importPKCS8(pem, 'EdDSA')
  const publicJwk = await exportJWK(createPublicKey(pem))
  const kid = await calculateJwkThumbprint(publicJwk)
  const jwk: JWK = { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }
  return {
    jwks: { keys: [jwk] },
    async issue (user) {
      const accessToken = await new SignJWT({ handle: user.handle })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey)
      return { accessToken, tokenType: 'Bearer', expiresIn: ttlSeconds }
    }
  }
}
