// Request and response schemas of the links API (they also generate the OpenAPI document).
import { Type, type Static } from 'typebox'

export const CreateLinkBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL to shorten' }),
  alias: Type.Optional(Type.String({
    minLength: 3,
    maxLength: 32,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'custom code instead of a generated one'
  })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 315_360_000, description: 'the link expires after this many seconds' })),
  permanent: Type.Optional(Type.Boolean({
    description: 'redirect with 301 instead of 302 (browsers cache it: later clicks are not counted)'
  }))
}, { additionalProperties: false })
export type CreateLinkBody = Static<typeof CreateLinkBody>

export const CodeParams = Type.Object({
  code: Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' })
})
export type CodeParams = Static<typeof CodeParams>

export const LinkResponse = Type.Object({
  code: Type.String(),
  shortUrl: Type.String(),
  url: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})

export const LinkDetails = Type.Object({
  ...LinkResponse.properties,
  clicks: Type.Integer(),
  permanent: Type.Boolean()
})

export { ProblemSchema as ProblemResponse } from '@shortfeed/common'
