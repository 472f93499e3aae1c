// Injected upstream latency for the load scenarios: a TCP proxy that adds a fixed delay to
// every round trip between the services and a server (Postgres, Redis, …). The services have
// no latency knob of their own; pointing the stack at this proxy instead of the real server
// makes, say, every Postgres query 20 ms slower, which is what turns a cache flush into a
// visible stampede on a machine where Postgres answers in a millisecond. See k6/README.md.
//
//   node k6/tools/latency-proxy.mjs --listen 55433 --target 127.0.0.1:55432 --rtt-ms 20
//
// Bytes keep their order: each chunk is forwarded rtt/2 after it arrived, in each direction.
// Plain Node (no dependencies), because Toxiproxy is not available everywhere the stack runs.
import net from 'node:net'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string' },
    target: { type: 'string' },
    'rtt-ms': { type: 'string', default: '20' },
    host: { type: 'string', default: '127.0.0.1' }
  }
})
const usage = 'usage: node k6/tools/latency-proxy.mjs --listen PORT --target HOST:PORT [--rtt-ms MS] [--host 127.0.0.1]'
const listenPort = Number(args.listen)
const [targetHost, targetPort] = (args.target ?? '').split(':')
const oneWayMs = Number(args['rtt-ms']) / 2
if (!Number.isInteger(listenPort) || !targetHost || !Number(targetPort) || !(oneWayMs >= 0)) {
  console.error(usage)
  process.exit(2)
}

/** Forwards `from`'s bytes to `to`, each chunk `delayMs` after it arrived, in order. */
function delayedPipe (from, to, delayMs) {
  from.on('data', (chunk) => {
    setTimeout(() => { if (!to.destroyed) to.write(chunk) }, delayMs)
  })
  from.on('end', () => setTimeout(() => to.end(), delayMs))
}

const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost)
  client.setNoDelay(true)
  upstream.setNoDelay(true)
  delayedPipe(client, upstream, oneWayMs)
  delayedPipe(upstream, client, oneWayMs)
  const close = () => { client.destroy(); upstream.destroy() }
  client.on('error', close)
  upstream.on('error', close)
  // A side that closed may still have bytes on their way to the other: let them land first.
  client.on('close', () => setTimeout(close, oneWayMs + 50))
  upstream.on('close', () => setTimeout(close, oneWayMs + 50))
})
server.listen(listenPort, args.host, () => {
  console.log(`latency-proxy: ${args.host}:${listenPort} → ${targetHost}:${targetPort}, +${oneWayMs * 2} ms per round trip`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
