// The gateway's instruments (RED per route comes from the HTTP instrumentation).
import { serviceMeter } from '@shortfeed/common'

const meter = serviceMeter('gateway')

export const gatewayMetrics = {
  rateLimitDecisions: meter.createCounter('gateway_ratelimit_decisions', { description: 'Rate-limit decisions by policy, outcome and store (redis or local fallback)' }),
  rateLimitFailOpen: meter.createCounter('gateway_ratelimit_fail_open', { description: 'Checks decided locally because Redis was unreachable' }),
  upstreamRetries: meter.createCounter('gateway_upstream_retries', { description: 'Upstream attempts repeated after a failure (idempotent requests only)' }),
  breakerState: meter.createObservableGauge('gateway_breaker_state', { description: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open' })
}
