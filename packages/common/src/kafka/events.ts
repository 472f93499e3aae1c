// The event contracts between services: topic names, partition keys and data schemas, as the
// design's "Events (Kafka)" table states them. Producers and consumers both import from here.
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { MalformedEventError } from './envelope.ts'

export const Topics = {
  urlClicked: 'url.clicked',
  urlMilestone: 'url.milestone',
  postCreated: 'post.created',
  userFollowed: 'user.followed',
  userUnfollowed: 'user.unfollowed'
} as const

export type Topic = typeof Topics[keyof typeof Topics]

export const allTopics: Topic[] = Object.values(Topics)

/** Where a message goes after it keeps failing. */
export function deadLetterTopic (topic: string): string {
  return `${topic}.dlq`
}

const Timestamp = Type.String({ format: 'date-time' })
const Id = Type.String({ minLength: 1, maxLength: 64 })

export const UrlClickedData = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 32 }),
  at: Timestamp,
  referrer: Type.Optional(Type.String({ maxLength: 2048 })),
  userAgent: Type.Optional(Type.String({ maxLength: 1024 })),
  // Enrichment (services/shortener/src/clicks/enrich.ts); absent from clicks of older producers.
  /** ISO 3166-1 alpha-2 of the client's address, or "unknown" (private, loopback, not found). */
  country: Type.Optional(Type.String({ minLength: 2, maxLength: 7 })),
  /** The Referer's host without "www.", "(direct)" without one, "unknown" if unreadable. */
  referrerHost: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  device: Type.Optional(Type.Union([
    Type.Literal('desktop'), Type.Literal('mobile'), Type.Literal('tablet'), Type.Literal('tv'),
    Type.Literal('bot'), Type.Literal('unknown')
  ]))
})
export type UrlClickedData = Static<typeof UrlClickedData>

export const UrlMilestoneData = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 32 }),
  ownerId: Id,
  clicks: Type.Integer({ minimum: 1 })
})
export type UrlMilestoneData = Static<typeof UrlMilestoneData>

export const PostCreatedData = Type.Object({
  postId: Id,
  authorId: Id,
  text: Type.String({ minLength: 1, maxLength: 280 }),
  createdAt: Timestamp
})
export type PostCreatedData = Static<typeof PostCreatedData>

export const FollowData = Type.Object({
  followerId: Id,
  followeeId: Id,
  at: Timestamp
})
export type FollowData = Static<typeof FollowData>

/** Data schema per topic, so a consumer can validate before it acts. */
export const EventDataSchemas = {
  [Topics.urlClicked]: UrlClickedData,
  [Topics.urlMilestone]: UrlMilestoneData,
  [Topics.postCreated]: PostCreatedData,
  [Topics.userFollowed]: FollowData,
  [Topics.userUnfollowed]: FollowData
} as const

const dataValidators = Object.fromEntries(Object.entries(EventDataSchemas).map(([topic, schema]) => [topic, Compile(schema)]))

/** Throws MalformedEventError when an event's data does not match its topic's schema. */
export function assertEventData (topic: string, data: unknown): void {
  const validator = dataValidators[topic]
  if (!validator) throw new MalformedEventError(`no schema for topic ${topic}`)
  if (!validator.Check(data)) {
    const first = validator.Errors(data)[0]
    throw new MalformedEventError(`${topic} data is invalid: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`)
  }
}
