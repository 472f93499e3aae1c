// The ceiling the redirect path is measured against: Fastify + ioredis, GET /:code → one Redis
// GET → 302, nothing else (no schema, logging, tracing, metrics or click counting).
//   PORT=… REDIS_URL=… KEY_PREFIX=… node bench/servers/baseline.ts
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: false })
const prefix = process.env['KEY_PREFIX'] ?? 'baseline:'
const app = Fastify({ logger: false })

app.get('/:code', async (request, reply) => {
  const url = await redis.get(prefix + request.params.code)
  if (url === null) return reply.code(404).send()
  return reply.redirect(url, 302)
})

await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) })
process.on('SIGTERM', () => { void app.close().then(() => redis.quit()).then(() => process.exit(0)) })
