// Which failures mean "a dependency is down right now": those become 503s and are retried by
// consumers instead of being dead-lettered; everything else is not.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isDependencyUnavailable, UpstreamUnavailableError } from '../../src/unavailable.ts'

describe('isDependencyUnavailable', () => {
  test('Postgres going away, restarting or unreachable', () => {
    assert.ok(isDependencyUnavailable(Object.assign(new Error('terminating connection due to unexpected postmaster exit'), { code: '57P01' })))
    assert.ok(isDependencyUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' })))
    assert.ok(isDependencyUnavailable(new Error('Client has encountered a connection error and is not queryable')))
    assert.ok(isDependencyUnavailable(new Error('timeout exceeded when trying to connect')))
    // The client's query_timeout: a frozen server never answers, so nothing else would end the wait.
    assert.ok(isDependencyUnavailable(new Error('Query read timeout')))
    assert.ok(isDependencyUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })))
  })

  test('Redis gone or frozen', () => {
    assert.ok(isDependencyUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false")))
    assert.ok(isDependencyUnavailable(new Error('Command timed out')))
    assert.ok(isDependencyUnavailable(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.')))
  })

  test('another service down: fetch failing to connect, timing out, or a 502/503/504', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8082'), { code: 'ECONNREFUSED' })
    assert.ok(isDependencyUnavailable(new TypeError('fetch failed', { cause: refused })))
    assert.ok(isDependencyUnavailable(new DOMException('The operation was aborted due to timeout', 'TimeoutError')))
    assert.ok(isDependencyUnavailable(new UpstreamUnavailableError('users API answered 503')))
  })

  test('not an outage: bugs, bad data, constraint violations, a 500 from a service', () => {
    assert.equal(isDependencyUnavailable(new TypeError('Cannot read properties of undefined')), false)
    assert.equal(isDependencyUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })), false)
    assert.equal(isDependencyUnavailable(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })), false)
    assert.equal(isDependencyUnavailable(new Error('users API answered 500 for /api/v1/users/1')), false)
    assert.equal(isDependencyUnavailable(undefined), false)
  })
})
