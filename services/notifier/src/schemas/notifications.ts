// The notifier's request and response schemas (they are its part of the OpenAPI document).
import { IdString } from '@shortfeed/common'
import { Type } from 'typebox'
import { NotificationTypes } from '../templates.ts'

const NotificationType = () => Type.Union(NotificationTypes.map((t) => Type.Literal(t)))

export const NotificationSchema = Type.Object({
  id: Type.String(),
  type: NotificationType(),
  text: Type.String(),
  actorIds: Type.Array(Type.String()),
  actorCount: Type.Integer(),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  read: Type.Boolean(),
  seq: Type.String()
})

export const NotificationPage = Type.Object({
  items: Type.Array(NotificationSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  unreadCount: Type.Integer()
})

export const MarkRead = Type.Object({
  ids: Type.Optional(Type.Array(IdString(), { minItems: 1, maxItems: 100 })),
  upToId: Type.Optional(IdString())
}, { additionalProperties: false, minProperties: 1 })

export const MarkedRead = Type.Object({ marked: Type.Integer(), unreadCount: Type.Integer() })

export const Preferences = Type.Object({
  muted: Type.Array(NotificationType(), { maxItems: NotificationTypes.length, uniqueItems: true })
}, { additionalProperties: false })

export const StreamHeaders = Type.Object({ 'last-event-id': Type.Optional(IdString()) })
