// /health/live (the process answers) and /health/ready (every dependency answers within a
// deadline). Infrastructure plugins add their own checks, so readiness follows what the
// service actually uses.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export type ReadinessCheck = () => Promise<unknown>

declare module 'fastify' {
  interface FastifyInstance {
    addReadinessCheck: (name: string, check: ReadinessCheck) => void
  }
}

export interface HealthOptions {
  /** Per-check deadline: a dependency that hangs is as unready as one that refuses. */
  checkTimeoutMs?: number
}

function withDeadline (promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms)
  })
  return Promise.race([promise, deadline]).finally(() => { clearTimeout(timer) })
}

export default fp(async function health (app: FastifyInstance, options: HealthOptions) {
  const timeoutMs = options.checkTimeoutMs ?? 1_000
  const checks = new Map<string, ReadinessCheck>()
  app.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => { checks.set(name, check) })

  const statusSchema = {
    type: 'object',
    properties: {
      status: { type: 'string' },
      checks: { type: 'object', additionalProperties: { type: 'string' } }
    }
  }

  app.get('/health/live', {
    logLevel: 'warn',
    schema: { tags: ['health'], response: { 200: statusSchema } }
  }, async () => ({ status: 'ok' }))

  app.get('/health/ready', {
    logLevel: 'warn',
    schema: { tags: ['health'], response: { 200: statusSchema, 503: statusSchema } }
  }, async (_request, reply) => {
    const results = await Promise.all([...checks].map(async ([name, check]) => {
      try {
        await withDeadline(check(), timeoutMs)
        return [name, 'up'] as const
      } catch (err) {
        return [name, `down: ${(err as Error).message}`] as const
      }
    }))
    const ready = results.every(([, state]) => state === 'up')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) })
  })
}, { name: 'health', fastify: '5.x' })
