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

export const StatsQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'start, inclusive (default: `to` minus 7 days)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'end, exclusive (default: now)' })),
  granularity: Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour', description: 'UTC hours or days' })
}, { additionalProperties: false })
export type StatsQuery = Static<typeof StatsQuery>

const Ranked = Type.Array(Type.Object({ value: Type.String(), clicks: Type.Integer() }))

export const ClickStats = Type.Object({
  code: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  granularity: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
  total: Type.Integer({ description: 'clicks in the range' }),
  series: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), clicks: Type.Integer() }), {
    description: 'one entry per hour or day of the range, zeros included'
  }),
  countries: Ranked,
  referrers: Ranked,
  devices: Ranked
}, { description: 'Top 10 of each list; countries are ISO 3166-1 alpha-2 or "unknown", referrers hosts, "(direct)" or "other"' })
export type ClickStats = Static<typeof ClickStats>
