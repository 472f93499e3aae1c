// Live notifications over Server-Sent Events. EventSource cannot send an Authorization header,
// so the stream is read with fetch and parsed by eventsource-parser (the EventSource spec's
// parser without the transport, 1.5 KB gzipped); after a drop it reconnects with Last-Event-ID, so
// nothing sent meanwhile is missed.
import { createParser } from 'eventsource-parser'
import { authHeader, type Notification } from './api.ts'

export interface LiveOptions {
  onNotification: (notification: Notification) => void
  onState: (state: 'connecting' | 'live' | 'retrying') => void
}

export function openLiveNotifications (options: LiveOptions): () => void {
  const stop = new AbortController()
  let lastEventId: string | undefined
  let retryMs = 3_000

  async function readOnce () {
    options.onState('connecting')
    const response = await fetch('/api/v1/notifications/stream', {
      headers: { accept: 'text/event-stream', ...authHeader(), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: stop.signal
    })
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`)
    options.onState('live')
    const parser = createParser({
      onId: (id) => { lastEventId = id },
      onRetry: (ms) => { retryMs = ms },
      onEvent: (message) => {
        if (message.event === 'notification' && message.data) options.onNotification(JSON.parse(message.data) as Notification)
      }
    })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      parser.feed(value)
    }
  }

  void (async () => {
    while (!stop.signal.aborted) {
      try {
        await readOnce()
      } catch {
        if (stop.signal.aborted) return
      }
      options.onState('retrying')
      await new Promise((resolve) => setTimeout(resolve, retryMs))
    }
  })()
  return () => { stop.abort() }
}
