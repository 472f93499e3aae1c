// The cheapest reverse proxy Fastify offers (@fastify/reply-from, keep-alive pool, nothing
// else), so the gateway's own features (auth, rate limiting, breaker, tracing) can be priced
// against it rather than against no proxy at all.
//   PORT=… UPSTREAM=http://… node bench/servers/minimal-proxy.ts
import replyFrom from '@fastify/reply-from'
import Fastify from 'fastify'

const app = Fastify({ logger: false })
await app.register(replyFrom, { base: process.env['UPSTREAM']!, undici: { connections: 64, pipelining: 1 } })
app.all('/*', (request, reply) => { void reply.from(request.url) })

await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
