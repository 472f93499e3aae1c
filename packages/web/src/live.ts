// Live notifications over Server-Sent Events. EventSource cannot send an Authorization header,
// so the stream is read with fetch and parsed here (the format is four field names); after a
// drop it reconnects with Last-Event-ID, so nothing sent meanwhile is missed.
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
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
      }
    }
  }

  function dispatch (block: string) {
    let event = 'message'
    let data = ''
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':')
      if (colon === 0) continue // a comment: the heartbeat
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data += (data ? '\n' : '') + value
      else if (field === 'id') lastEventId = value
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value)
    }
    if (event === 'notification' && data) options.onNotification(JSON.parse(data) as Notification)
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
