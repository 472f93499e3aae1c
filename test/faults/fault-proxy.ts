// A TCP proxy that injects network faults between a client and a server on loopback: added
// latency, a black hole (bytes are held, as in a partition, and delivered when it heals) and
// resets (every connection, open or new, is torn down with RST). The fault tests put one in
// front of Postgres, Redis, Kafka or a service and switch faults on and off while load flows.
//
// Hand-written because no maintained npm package does this in-process: Toxiproxy needs its Go
// server binary (not installable here), and the plain TCP proxies on the registry
// (tcp-proxy.js, node-tcp-proxy) only forward. The logic is small: one ordered queue per
// direction, drained on a timer.
import { connect, createServer, type Socket } from 'node:net'

export interface FaultProxyStats {
  /** Connections accepted since start. */
  connections: number
  /** Connections open now. */
  open: number
  bytesToTarget: number
  bytesFromTarget: number
}

export interface FaultProxy {
  /** Where clients connect. */
  port: number
  /** The server behind it; connections arriving before a target is set are reset. */
  setTarget: (port: number) => void
  /** Every chunk, both ways, is delivered this much later (0 removes the latency). */
  latency: (ms: number) => void
  /** Holds every byte, both ways, on open and new connections until heal(). */
  blackhole: () => void
  /** Resets every open connection and each new one until heal(). */
  reset: () => void
  /** Back to plain forwarding; held bytes are delivered in order. */
  heal: () => void
  stats: () => FaultProxyStats
  /** From now on, counts how often `marker` passes towards the target (e.g. HTTP request lines). */
  watchToTarget: (marker: string) => () => number
  close: () => Promise<void>
}

type Mode = 'forward' | 'blackhole' | 'reset'

interface Chunk { data: Buffer, dueAt: number }

/** One direction of a connection: an ordered queue, released when due and not held. */
function createPipe (to: Socket, isHeld: () => boolean) {
  const queue: Chunk[] = []
  let timer: NodeJS.Timeout | undefined
  let ending = false

  function pump () {
    clearTimeout(timer)
    timer = undefined
    if (to.destroyed || isHeld()) return
    const now = Date.now()
    while (queue.length > 0 && queue[0]!.dueAt <= now) to.write(queue.shift()!.data)
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.dueAt - now)
    else if (ending) to.end()
  }

  return {
    push (data: Buffer, delayMs: number) {
      queue.push({ data, dueAt: Date.now() + delayMs })
      pump()
    },
    end () {
      ending = true
      pump()
    },
    pump,
    stop () { clearTimeout(timer) }
  }
}

export async function startFaultProxy (options: { target?: number, port?: number } = {}): Promise<FaultProxy> {
  let target = options.target
  let mode: Mode = 'forward'
  let latencyMs = 0
  const pairs = new Set<{ client: Socket, upstream: Socket, pumps: Array<ReturnType<typeof createPipe>> }>()
  const stats: FaultProxyStats = { connections: 0, open: 0, bytesToTarget: 0, bytesFromTarget: 0 }
  const watchers: Array<(socket: Socket, data: Buffer) => void> = []

  const isHeld = () => mode === 'blackhole'

  function resetPair (pair: { client: Socket, upstream: Socket }) {
    pair.client.resetAndDestroy()
    pair.upstream.resetAndDestroy()
  }

  const server = createServer({ noDelay: true }, (client) => {
    stats.connections++
    if (mode === 'reset' || target === undefined) {
      client.resetAndDestroy()
      return
    }
    stats.open++
    const upstream = connect({ port: target, host: '127.0.0.1', noDelay: true })
    const toUpstream = createPipe(upstream, isHeld)
    const toClient = createPipe(client, isHeld)
    const pair = { client, upstream, pumps: [toUpstream, toClient] }
    pairs.add(pair)
    let closed = false
    const close = () => {
      if (closed) return
      closed = true
      stats.open--
      pairs.delete(pair)
      toUpstream.stop()
      toClient.stop()
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (data) => {
      stats.bytesToTarget += data.length
      for (const watch of watchers) watch(client, data)
      toUpstream.push(data, latencyMs)
    })
    upstream.on('data', (data) => {
      stats.bytesFromTarget += data.length
      toClient.push(data, latencyMs)
    })
    client.on('end', () => { toUpstream.end() })
    upstream.on('end', () => { toClient.end() })
    // A reset on one side is passed on as a reset, so the other side sees what a real network shows.
    client.on('error', () => { upstream.resetAndDestroy(); close() })
    upstream.on('error', () => { client.resetAndDestroy(); close() })
    client.on('close', close)
    upstream.on('close', close)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: options.port ?? 0, host: '127.0.0.1' }, resolve)
  })
  // A proxy left open by a failed test must not keep the test process alive.
  server.unref()
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  return {
    port,
    setTarget (next) { target = next },
    latency (ms) { latencyMs = ms },
    blackhole () { mode = 'blackhole' },
    reset () {
      mode = 'reset'
      for (const pair of pairs) resetPair(pair)
    },
    heal () {
      mode = 'forward'
      latencyMs = 0
      for (const pair of pairs) for (const pump of pair.pumps) pump.pump()
    },
    stats: () => ({ ...stats }),
    watchToTarget (marker) {
      let count = 0
      // The tail of each connection's previous chunk, so a marker split across chunks counts.
      const tails = new WeakMap<Socket, string>()
      watchers.push((socket, data) => {
        const text = (tails.get(socket) ?? '') + data.toString('latin1')
        for (let i = text.indexOf(marker); i !== -1; i = text.indexOf(marker, i + marker.length)) count++
        tails.set(socket, marker.length > 1 ? text.slice(-(marker.length - 1)) : '')
      })
      return () => count
    },
    async close () {
      for (const pair of pairs) resetPair(pair)
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
