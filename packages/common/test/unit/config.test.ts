import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Type } from 'typebox'
import { baseConfig, ConfigError, kafkaConfig, loadConfig, portConfig, postgresConfig, secret, secretNames } from '../../src/config.ts'

const schema = Type.Object({
  ...baseConfig,
  ...portConfig(8081),
  ...postgresConfig,
  ...kafkaConfig,
  SIGNING_KEY: secret('development-signing-key')
})
const valid = { DATABASE_URL: 'postgres://app@db:5432/app', KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092' }

function configError (env: Record<string, string>): ConfigError {
  try {
    loadConfig('svc', schema, env)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err
  }
  assert.fail('expected a ConfigError')
}

describe('loadConfig', () => {
  test('when only the required variables are set, then defaults fill the rest and numbers are numbers', () => {
    const config = loadConfig('svc', schema, valid)
    assert.equal(config.PORT, 8081)
    assert.equal(config.PG_POOL_MAX, 10)
    assert.equal(config.MIGRATE_ON_START, true)
    assert.equal(config.NODE_ENV, 'development')
    assert.equal(config.KAFKA_BROKERS, 'kafka-1:9092,kafka-2:9092')
  })

  test('when values are given as strings, then they are coerced to the schema types', () => {
    const config = loadConfig('svc', schema, { ...valid, PORT: '9000', MIGRATE_ON_START: 'false', LOG_PRETTY: 'true' })
    assert.equal(config.PORT, 9000)
    assert.equal(config.MIGRATE_ON_START, false)
    assert.equal(config.LOG_PRETTY, true)
  })

  test('when a required variable is missing, then the error names it', () => {
    const err = configError({ KAFKA_BROKERS: 'k:9092' })
    assert.deepEqual(err.variables, ['DATABASE_URL'])
    assert.match(err.message, /DATABASE_URL: is required/)
    assert.match(err.message, /Invalid configuration for svc/)
  })

  test('when several variables are malformed, then each is named once with the value it had', () => {
    const err = configError({ ...valid, PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'a b' })
    assert.deepEqual(err.variables.sort(), ['DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL', 'PORT'])
    assert.match(err.message, /PORT: must be integer \(got "eighty"\)/)
    assert.match(err.message, /LOG_LEVEL: is not one of the allowed values \(got "loud"\)/)
  })

  test('when a port is out of range, then it is refused', () => {
    assert.deepEqual(configError({ ...valid, PORT: '70000' }).variables, ['PORT'])
  })

  test('when an empty string is given, then it counts as unset', () => {
    assert.deepEqual(configError({ ...valid, DATABASE_URL: '' }).variables, ['DATABASE_URL'])
  })

  test('when production runs with a development secret, then it refuses to start', () => {
    const err = configError({ ...valid, NODE_ENV: 'production' })
    assert.deepEqual(err.variables, ['SIGNING_KEY'])
    assert.match(err.message, /development default is refused/)
  })

  test('when production has a real secret, then it starts', () => {
    const config = loadConfig('svc', schema, { ...valid, NODE_ENV: 'production', SIGNING_KEY: 'a-real-secret-of-enough-length' })
    assert.equal(config.SIGNING_KEY, 'a-real-secret-of-enough-length')
  })

  test('when the environment holds unrelated variables, then they are neither kept nor touched', () => {
    const env = { ...valid, HOME: '/root' }
    const config = loadConfig('svc', schema, env) as Record<string, unknown>
    assert.equal(config['HOME'], undefined)
    assert.deepEqual(env, { ...valid, HOME: '/root' })
  })

  test('secretNames lists the secret variables for log redaction', () => {
    assert.deepEqual(secretNames(schema), ['SIGNING_KEY'])
  })
})
