// Request and response schemas of the timeline API (they also generate the OpenAPI document).
import { IdString } from '@shortfeed/common'
import { Type, type Static } from 'typebox'

export const Id = IdString()

/** Every handle has this shape, so a login or lookup with another (a NUL, a quote) never reaches the database. */
const Handle = Type.String({ pattern: '^[A-Za-z0-9_]{3,30}$', description: 'letters, digits and _; unique whatever the case' })

export const RegisterBody = Type.Object({
  handle: Handle,
  password: Type.String({ minLength: 8, maxLength: 128 }),
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 50 }))
}, { additionalProperties: false })
export type RegisterBody = Static<typeof RegisterBody>

export const TokenBody = Type.Object({
  handle: Handle,
  password: Type.String({ minLength: 1, maxLength: 128 })
}, { additionalProperties: false })

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer()
})

export const UserResponse = Type.Object({
  id: Id,
  handle: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  followerCount: Type.Integer(),
  followingCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' })
})

export const UserParams = Type.Object({ id: Id })
export const HandleParams = Type.Object({ handle: Handle })
export const FollowParams = Type.Object({ userId: Id })
export const PostParams = Type.Object({ id: Id })

export const PostBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 2000, description: '1–280 characters once trimmed' })
}, { additionalProperties: false })

export const PostResponse = Type.Object({
  id: Id,
  authorId: Id,
  authorHandle: Type.String(),
  text: Type.String(),
  createdAt: Type.String({ format: 'date-time' })
})

export const TimelineItem = Type.Object({
  ...PostResponse.properties,
  source: Type.Union([Type.Literal('push'), Type.Literal('pull')], {
    description: 'push: written into your timeline when it was posted (fan-out on write); ' +
      'pull: fetched at read time (a celebrity\'s post, one fan-out has not reached yet, or your own)'
  })
})

export { ProblemSchema as ProblemResponse } from '@shortfeed/common'
