// The gateway's instruments (RED per route comes from the HTTP instrumentation), made by a plugin
// as the app is built: OpenTelemetry binds an instrument to the meter provider that is global
// when it is created, so instruments made at import stayed no-ops whenever telemetry started later.
import { instrumentsPlugin, serviceMeter } from '@shortfeed/common'

export function createGatewayMetrics () {
  const meter = serviceMeter('gateway')
  return {
    requestDuration: meter.createHistogram('gateway_request_duration', {
      description: 'Requests by public route and status (RED: rate, errors, duration)',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] }
    }),
    rateLimitDecisions: meter.createCounter('gateway_ratelimit_decisions', {
      description: 'Rate-limit decisions by policy, outcome and store (redis or local fallback)'
    }),
    rateLimitFailOpen: meter.createCounter('gateway_ratelimit_fail_open', {
      description: 'Checks decided locally because Redis was unreachable'
    }),
    upstreamRetries: meter.createCounter('gateway_upstream_retries', {
      description: 'Upstream attempts repeated after a failure (idempotent requests only)'
    }),
    upstreamInstances: meter.createObservableGauge('gateway_upstream_instances', {
      description: 'Instances requests to each upstream are spread over (its name resolved to every address)'
    }),
    breakerState: meter.createObservableGauge('gateway_breaker_state', {
      description: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open'
    })
  }
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    gatewayMetrics: GatewayMetrics
  }
}

/** Registered first by buildApp (app.ts), which hands the instruments to the proxy and upstreams. */
export const metricsPlugin = instrumentsPlugin('gateway-metrics', 'gatewayMetrics', createGatewayMetrics)
