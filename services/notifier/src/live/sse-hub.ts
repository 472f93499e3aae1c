// Live notifications over Server-Sent Events, fanned out across notifier instances through
// Redis pub/sub: each instance subscribes to a user's channel while that user has a stream
// open on it. A stream resumes with Last-Event-ID (the change number): what was missed is read
// from Postgres before live messages, which wait in a queue meanwhile so none slips between.
// Delivery is at least once: a change is written once per stream, but a client that resumes
// may be sent again a change it had (its Last-Event-ID can trail one that overtook it).
import type { FastifyReply } from 'fastify'
import type { Redis } from 'ioredis'
import { liveTopic } from '../channels.ts'
import type { NotifierMetrics } from '../metrics.ts'
import type { Notification, NotificationStore } from '../store.ts'

/** Change numbers a stream remembers having sent: far more than can arrive out of order. */
const SENT_REMEMBERED = 1_000

interface Stream {
  send: (notification: Notification) => void
  end: () => void
}

export interface SseHubOptions {
  /** A connection of the hub's own: one in subscriber mode can run no other command. */
  subscriber: Redis
  prefix: string
  store: NotificationStore
  heartbeatMs: number
  metrics: Pick<NotifierMetrics, 'sseConnections'>
}

export function createSseHub (options: SseHubOptions) {
  const { metrics } = options
  // Per recipient with a stream open here: the streams, and the subscription they wait for.
  const streams = new Map<string, { set: Set<Stream>, subscribed: Promise<unknown> }>()

  options.subscriber.on('message', (channel: string, message: string) => {
    const recipientId = channel.slice(liveTopic(options.prefix, '').length)
    const notification = JSON.parse(message) as Notification
    for (const stream of streams.get(recipientId)?.set ?? []) stream.send(notification)
  })

  async function open (recipientId: string, reply: FastifyReply, lastEventId: string | undefined) {
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })

    // Changes already written to this stream, by change number. Not a high-water mark: with
    // several notifier instances, changes are published in the order their transactions end,
    // not in number order, so a lower number can arrive after a higher one and must still go.
    const sent = new Set<string>()
    let queue: Notification[] | undefined = lastEventId === undefined ? undefined : []
    const write = (n: Notification) => {
      if (sent.has(n.seq)) return
      sent.add(n.seq)
      if (sent.size > SENT_REMEMBERED) sent.delete(sent.values().next().value!)
      raw.write(`id: ${n.seq}\nevent: notification\ndata: ${JSON.stringify(n)}\n\n`)
    }
    const stream: Stream = { send: (n) => { if (queue) queue.push(n); else write(n) }, end: () => { raw.end() } }

    let entry = streams.get(recipientId)
    if (!entry) {
      entry = { set: new Set(), subscribed: options.subscriber.subscribe(liveTopic(options.prefix, recipientId)) }
      streams.set(recipientId, entry)
    }
    entry.set.add(stream)
    metrics.sseConnections.add(1)
    const leave = () => {
      metrics.sseConnections.add(-1)
      const current = streams.get(recipientId)
      current?.set.delete(stream)
      if (current && current.set.size === 0) {
        streams.delete(recipientId)
        void options.subscriber.unsubscribe(liveTopic(options.prefix, recipientId)).catch(() => {})
      }
    }
    try {
      await entry.subscribed
    } catch {
      // Redis is unreachable: end the stream, and the client reconnects after `retry`.
      if (streams.get(recipientId) === entry) streams.delete(recipientId)
      metrics.sseConnections.add(-1)
      raw.end()
      return
    }
    // The client may have gone while the subscription was being made.
    if (raw.closed) {
      leave()
      return
    }
    // The first bytes of the body: from here on the stream is live, so a client (or a test)
    // that has read them knows that nothing published later can pass it by.
    raw.write('retry: 3000\n\n')
    const heartbeat = setInterval(() => { raw.write(': heartbeat\n\n') }, options.heartbeatMs)
    raw.on('close', () => {
      clearInterval(heartbeat)
      leave()
    })

    if (lastEventId !== undefined) {
      for (const n of await options.store.changesSince(recipientId, lastEventId)) write(n)
      const waiting = queue ?? []
      queue = undefined
      for (const n of waiting) write(n)
    }
  }

  return {
    open,
    /** Ends every stream (shutdown): clients reconnect to another instance with Last-Event-ID. */
    closeAll () {
      for (const { set } of streams.values()) for (const stream of set) stream.end()
    }
  }
}

export type SseHub = ReturnType<typeof createSseHub>
