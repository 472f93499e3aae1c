// Smoke: a trickle of readiness probes against each target; fails if any is not ready.
import http from 'k6/http'
import { check } from 'k6'

const targets = (__ENV.TARGETS || 'http://127.0.0.1:8080').split(',')

export const options = {
  scenarios: {
    smoke: { executor: 'constant-arrival-rate', rate: 5, timeUnit: '1s', duration: '20s', preAllocatedVUs: 5 }
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_duration: ['p(99)<200']
  }
}

export default function () {
  for (const target of targets) {
    const res = http.get(`${target}/health/ready`, { tags: { endpoint: 'ready' } })
    check(res, { 'ready is 200': (r) => r.status === 200 })
  }
}
