// Publishes url.clicked without delaying the redirect: clicks are buffered in memory and sent
// in batches (every CLICK_FLUSH_INTERVAL_MS or CLICK_BATCH_SIZE clicks). When Kafka is
// unreachable the redirect is unaffected; clicks beyond CLICK_BUFFER_MAX or in a batch Kafka
// refused are dropped and counted (shortener_clicks_dropped) — analytics degrade, links don't.
// Each click is enriched (country, referrer host, device class: clicks/enrich.ts) as its batch
// is flushed, after the redirect has been answered.
import {
  createEvent, createEventProducer, createKafka, Topics, untilConnected, type EventProducer, type UrlClickedData
} from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger as Logger } from 'fastify'
import { createClickEnricher, type ClickEnricher } from '../clicks/enrich.ts'
import type { ShortenerMetrics } from '../metrics.ts'

export interface ClickPublisherOptions {
  flushIntervalMs: number
  batchSize: number
  bufferMax: number
  /** How long a batch may wait for Kafka before it is counted as dropped. */
  sendTimeoutMs: number
}

export interface ClickPublisher {
  /** Buffers a click; `ip` is the client's address, looked up at flush and never sent on. */
  publishClick: (click: UrlClickedData, ip?: string) => void
  /** Sends what is buffered (also called on shutdown). */
  flush: () => Promise<void>
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    clicks: ClickPublisher
  }
}

/**
 * The send, or a rejection once `ms` have passed. kafkajs was seen to leave a send to a broker
 * that froze and then died pending for minutes, holding every later batch behind it; a batch
 * given up on is counted as dropped (it may still arrive late: counted dropped, delivered once).
 */
function settledWithin (send: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer from Kafka within ${ms} ms`)) }, ms)
  })
  send.catch(() => {}) // a late failure, after the timeout, is already counted
  return Promise.race([send, timeout]).finally(() => { clearTimeout(timer) })
}

interface BufferedClick { click: UrlClickedData, ip: string | undefined }

export function createClickPublisher (
  producer: EventProducer, logger: Logger, options: ClickPublisherOptions, metrics: ShortenerMetrics, enricher?: ClickEnricher
): ClickPublisher {
  let buffer: BufferedClick[] = []

  function enriched ({ click, ip }: BufferedClick): UrlClickedData {
    if (!enricher) return click
    return { ...click, ...enricher.enrich({ ip: ip ?? '', referrer: click.referrer, userAgent: click.userAgent }) }
  }

  let sending: Promise<void> | undefined
  const timer = setInterval(() => { void flush() }, options.flushIntervalMs)
  timer.unref()

  async function sendBatches () {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, options.batchSize)
      buffer = buffer.slice(batch.length)
      try {
        const send = producer.publish(Topics.urlClicked, batch.map((buffered) => ({
          key: buffered.click.code,
          event: createEvent(Topics.urlClicked, enriched(buffered), { source: 'shortener' })
        })))
        await settledWithin(send, options.sendTimeoutMs)
        metrics.clicksPublished.add(batch.length)
      } catch (err) {
        metrics.clicksDropped.add(batch.length)
        logger.warn({ err, dropped: batch.length }, 'click events dropped: Kafka unavailable')
      }
    }
  }

  function flush (): Promise<void> {
    // One send at a time keeps batches in order; clicks arriving meanwhile wait for the next.
    sending ??= sendBatches().finally(() => { sending = undefined })
    return sending
  }

  return {
    publishClick (click, ip) {
      if (buffer.length >= options.bufferMax) {
        metrics.clicksDropped.add(1)
        return
      }
      buffer.push({ click, ip })
      if (buffer.length >= options.batchSize) void flush()
    },
    flush,
    async close () {
      clearInterval(timer)
      await sending
      await flush()
    }
  }
}

export default fp(async function clickPublisher (
  app: FastifyInstance, options: ClickPublisherOptions & { brokers: string, enrichment: boolean, geoDatabase?: string | undefined }
) {
  // A client of its own that gives up within a few seconds: clicks are best effort, and a
  // batch retried for a minute during an outage would only hold back the ones behind it.
  const kafka = createKafka({
    clientId: 'shortener-clicks',
    brokers: options.brokers,
    logger: app.log,
    connectionTimeoutMs: 1_000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 }
  })
  const producer = createEventProducer(kafka)
  // Until it connects, sends fail fast and their clicks are counted as dropped.
  const closing = new AbortController()
  const connected = untilConnected(() => producer.connect(), { what: 'click producer', logger: app.log, signal: closing.signal })
  const enricher = options.enrichment ? await createClickEnricher({ geoDatabase: options.geoDatabase }) : undefined
  const publisher = createClickPublisher(producer, app.log, options, app.shortenerMetrics, enricher)
  app.decorate('clicks', publisher)
  app.addHook('onClose', async () => {
    closing.abort()
    await connected
    await publisher.close()
    await producer.disconnect()
  })
}, { name: 'click-publisher', dependencies: ['kafka', 'shortener-metrics'] })
