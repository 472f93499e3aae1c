// The services' own time limits must run out before the gateway's, or a client hears the
// gateway's 504 (no Retry-After, and the breaker counts it) instead of the service's 503.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CLIENT_TIMEOUT_MARGIN_MS, postgresConfig, redisConfig } from '@shortfeed/common'
import { GatewayConfig } from '../../src/config.ts'

const defaultOf = (schema: unknown) => (schema as { default: number }).default

test('a service gives up on Postgres or Redis before the gateway gives up on the service', () => {
  const gateway = defaultOf(GatewayConfig.properties.UPSTREAM_TIMEOUT_MS)
  // Waiting for a connection, then one statement that never answers.
  const postgres = defaultOf(postgresConfig.PG_CONNECT_TIMEOUT_MS) +
    defaultOf(postgresConfig.PG_STATEMENT_TIMEOUT_MS) + CLIENT_TIMEOUT_MARGIN_MS
  const redis = defaultOf(redisConfig.REDIS_COMMAND_TIMEOUT_MS)
  assert.ok(postgres < gateway, `Postgres ${postgres} ms, gateway ${gateway} ms`)
  assert.ok(redis < gateway, `Redis ${redis} ms, gateway ${gateway} ms`)
})
