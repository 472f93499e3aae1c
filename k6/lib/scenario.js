// The one executor every scenario uses: constant-arrival-rate. Requests arrive at the rate asked
// whatever the latency (an open model, like real users), so a slow service shows up as latency
// and dropped_iterations rather than as a politely lower request rate (coordinated omission).
import http from 'k6/http'
import { TREND_STATS } from './env.js'

/** A constant-arrival-rate scenario: `rate` iterations per second of `exec` for `duration`. */
export function constantRate ({ exec, rate, duration, vus, maxVUs, startTime, tags, timeUnit = '1s' }) {
  if (!(rate > 0)) throw new Error(`${exec}: the rate must be above 0 (got ${rate})`)
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate,
    timeUnit,
    duration,
    preAllocatedVUs: vus,
    maxVUs: Math.max(vus, maxVUs ?? vus),
    ...(startTime ? { startTime } : {}),
    ...(tags ? { tags } : {})
  }
}

/** Options shared by every scenario: setup may register hundreds of users (scrypt takes time). */
export function baseOptions ({ scenarios, thresholds, setupTimeout = '5m' }) {
  return {
    scenarios,
    thresholds,
    setupTimeout,
    teardownTimeout: '1m',
    summaryTrendStats: TREND_STATS,
    // Redirects are the answer being measured, never followed.
    maxRedirects: 0,
    // Only tags that mean something here: the URL of a redirect is different for every code.
    systemTags: ['status', 'method', 'scenario', 'check', 'error_code', 'expected_response']
  }
}

/** Params for a request counted under `endpoint`, expecting one of `statuses`. */
export function params (endpoint, statuses, extra = {}) {
  const { tags, ...rest } = extra
  return { tags: { endpoint, ...tags }, responseCallback: http.expectedStatuses(...statuses), ...rest }
}
