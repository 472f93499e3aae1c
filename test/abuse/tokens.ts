// Access tokens built by hand with node:crypto, so that every field a forger controls (alg,
// kid, jku, claims, signature) can be set to anything — a JWT library would refuse to build
// most of them.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'

export const ISSUER = 'shortfeed-timeline'
export const AUDIENCE = 'shortfeed'

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** header.payload.signature, where `signer` gets the signing input. */
export function buildJwt (header: object, claims: object, signer: (input: string) => Buffer | string): string {
  const input = `${encode(header)}.${encode(claims)}`
  const signature = signer(input)
  return `${input}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`
}

export const signers = {
  eddsa: (key: KeyObject) => (input: string) => sign(null, Buffer.from(input), key),
  rs256: (key: KeyObject) => (input: string) => sign('sha256', Buffer.from(input), key),
  hs256: (secret: string | Buffer) => (input: string) => createHmac('sha256', secret).update(input).digest(),
  none: () => () => ''
}

/** The claims the gateway expects, valid for ten minutes; `overrides` replace or (undefined) remove some. */
export function claimsFor (sub: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = { sub, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, ...overrides }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  return claims
}

export interface SigningKey { privateKey: KeyObject, publicKey: KeyObject, pem: string }

export function newSigningKey (): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
}

/**
 * Every forgery the gateway must refuse, for `sub`, given the real key (to make tokens that
 * are right in every way but one) and its public JWK.
 */
export function forgedTokens (sub: string, real: { key: SigningKey, kid: string, jwk: Record<string, unknown> }, canaryUrl = 'http://127.0.0.1:9/') {
  const now = Math.floor(Date.now() / 1000)
  const good = { alg: 'EdDSA', typ: 'JWT', kid: real.kid }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const stranger = generateKeyPairSync('ed25519')
  const valid = buildJwt(good, claimsFor(sub), signers.eddsa(real.key.privateKey))
  const [validHeader, validPayload, validSignature] = valid.split('.') as [string, string, string]
  return {
    'alg none': buildJwt({ alg: 'none', typ: 'JWT' }, claimsFor(sub), signers.none()),
    'alg None (case)': buildJwt({ alg: 'None', typ: 'JWT' }, claimsFor(sub), signers.none()),
    'alg none keeping a real signature': `${encode({ alg: 'none', typ: 'JWT', kid: real.kid })}.${validPayload}.${validSignature}`,
    'another Ed25519 key under the real kid': buildJwt(good, claimsFor(sub), signers.eddsa(stranger.privateKey)),
    'HS256 keyed with the public JWK (algorithm confusion)': buildJwt({ alg: 'HS256', typ: 'JWT', kid: real.kid }, claimsFor(sub), signers.hs256(JSON.stringify(real.jwk))),
    'HS256 keyed with the raw public key': buildJwt({ alg: 'HS256', typ: 'JWT', kid: real.kid }, claimsFor(sub), signers.hs256(Buffer.from(String(real.jwk['x']), 'base64url'))),
    'HS256 keyed with the public key PEM': buildJwt({ alg: 'HS256', typ: 'JWT', kid: real.kid }, claimsFor(sub), signers.hs256(real.key.publicKey.export({ type: 'spki', format: 'pem' }).toString())),
    'RS256 with an embedded jwk of its own': buildJwt({ alg: 'RS256', typ: 'JWT', jwk: rsa.publicKey.export({ format: 'jwk' }) }, claimsFor(sub), signers.rs256(rsa.privateKey)),
    'EdDSA with an embedded jwk of its own': buildJwt({ alg: 'EdDSA', typ: 'JWT', jwk: stranger.publicKey.export({ format: 'jwk' }) }, claimsFor(sub), signers.eddsa(stranger.privateKey)),
    'a jku pointing at the forger\'s keys': buildJwt({ alg: 'EdDSA', typ: 'JWT', kid: 'forger', jku: `${canaryUrl}jwks.json` }, claimsFor(sub), signers.eddsa(stranger.privateKey)),
    'an x5u pointing at the forger\'s certificate': buildJwt({ alg: 'EdDSA', typ: 'JWT', kid: 'forger', x5u: `${canaryUrl}cert.pem` }, claimsFor(sub), signers.eddsa(stranger.privateKey)),
    'a kid with a path traversal': buildJwt({ ...good, kid: '../../../../dev/null' }, claimsFor(sub), signers.hs256('')),
    'a kid with SQL': buildJwt({ ...good, kid: "x' UNION SELECT 'key' --" }, claimsFor(sub), signers.eddsa(stranger.privateKey)),
    'the real key, another subject swapped into the payload': `${validHeader}.${encode(claimsFor(sub === '1' ? '2' : '1'))}.${validSignature}`,
    'the real key, signature truncated': `${validHeader}.${validPayload}.${validSignature.slice(0, -4)}`,
    'the real key, expired an hour ago': buildJwt(good, claimsFor(sub, { iat: now - 7200, exp: now - 3600 }), signers.eddsa(real.key.privateKey)),
    'the real key, not valid for an hour': buildJwt(good, claimsFor(sub, { nbf: now + 3600 }), signers.eddsa(real.key.privateKey)),
    'the real key, another issuer': buildJwt(good, claimsFor(sub, { iss: 'someone-else' }), signers.eddsa(real.key.privateKey)),
    'the real key, another audience': buildJwt(good, claimsFor(sub, { aud: 'another-api' }), signers.eddsa(real.key.privateKey)),
    'the real key, no expiry': buildJwt(good, claimsFor(sub, { exp: undefined }), signers.eddsa(real.key.privateKey)),
    'the real key, no subject': buildJwt(good, claimsFor(sub, { sub: undefined }), signers.eddsa(real.key.privateKey)),
    'the real key, a subject that is not an id': buildJwt(good, claimsFor('1 OR 1=1'), signers.eddsa(real.key.privateKey)),
    'the real key, a numeric subject': buildJwt(good, { ...claimsFor(sub), sub: Number(sub) }, signers.eddsa(real.key.privateKey)),
    'the real key, crit header it does not understand': buildJwt({ ...good, crit: ['exp'] }, claimsFor(sub), signers.eddsa(real.key.privateKey)),
    'the real key, the payload not JSON': `${validHeader}.${Buffer.from('not json').toString('base64url')}.${signers.eddsa(real.key.privateKey)(`${validHeader}.${Buffer.from('not json').toString('base64url')}`).toString('base64url')}`
  } satisfies Record<string, string>
}
