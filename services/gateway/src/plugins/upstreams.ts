// One upstream client per service the gateway routes to (upstream/upstream-client.ts: a pool
// per instance, retries for idempotent requests, a circuit breaker), as app.upstreams; their
// breaker states and instance counts are observed on the gateway's gauges.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Upstream as UpstreamName } from '../routing.ts'
import { createUpstream, type Upstream, type UpstreamOptions } from '../upstream/upstream-client.ts'

export interface UpstreamsOptions extends Omit<UpstreamOptions, 'name' | 'instances' | 'onRetry' | 'onInstances' | 'onResolveError'> {
  /** Each service's comma-separated instance list; a service left out is not routed to. */
  instances: Partial<Record<UpstreamName, string | undefined>>
}

export type Upstreams = Partial<Record<UpstreamName, Upstream>>

declare module 'fastify' {
  interface FastifyInstance {
    upstreams: Upstreams
  }
}

export default fp(async function upstreams (app: FastifyInstance, options: UpstreamsOptions) {
  const { instances, ...shared } = options
  const metrics = app.gatewayMetrics
  const clients: Upstreams = {}
  for (const [name, list] of Object.entries(instances) as Array<[UpstreamName, string | undefined]>) {
    if (!list) continue
    clients[name] = createUpstream({
      ...shared,
      name,
      instances: list.split(','),
      onRetry: () => { metrics.upstreamRetries.add(1) },
      onInstances: (origins) => { app.log.info({ upstream: name, instances: origins }, 'upstream instances') },
      onResolveError: (err) => { app.log.warn({ err, upstream: name }, 'upstream names did not resolve; keeping the last instances') }
    })
  }
  app.decorate('upstreams', clients)

  const all = Object.values(clients)
  const observeBreakers = (result: { observe: (value: number, attributes: Record<string, string>) => void }) => {
    for (const upstream of all) result.observe(upstream.state(), { upstream: upstream.name })
  }
  const observeInstances = (result: { observe: (value: number, attributes: Record<string, string>) => void }) => {
    for (const upstream of all) result.observe(upstream.instanceCount(), { upstream: upstream.name })
  }
  metrics.breakerState.addCallback(observeBreakers)
  metrics.upstreamInstances.addCallback(observeInstances)
  app.addHook('onClose', async () => {
    metrics.breakerState.removeCallback(observeBreakers)
    metrics.upstreamInstances.removeCallback(observeInstances)
    await Promise.all(all.map((u) => u.close()))
  })
}, { name: 'upstreams', dependencies: ['gateway-metrics'] })
