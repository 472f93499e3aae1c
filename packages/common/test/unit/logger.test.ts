import assert from 'node:assert/strict'
import { test } from 'node:test'
import { context, trace, TraceFlags } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { loggerOptions, redactUrl, traceMixin } from '../../src/logger.ts'

test('inside a span, log lines carry its trace_id and span_id; outside, nothing', () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  assert.deepEqual(traceMixin(), {})
  const ctx = trace.setSpanContext(context.active(), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED })
  context.with(ctx, () => {
    assert.deepEqual(traceMixin(), { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' })
  })
})

test('logs are JSON unless asked to be pretty, and credentials are redacted', () => {
  const options = loggerOptions({ service: 's', level: 'info', nodeEnv: 'production', redact: ['JWT_PRIVATE_KEY'] })
  assert.equal(options.transport, undefined)
  assert.deepEqual(options.base, { service: 's' })
  const paths = (options.redact as { paths: string[] }).paths
  for (const path of ['req.headers.authorization', 'req.headers.cookie', '*.password', 'JWT_PRIVATE_KEY']) assert.ok(paths.includes(path), path)
  assert.ok(loggerOptions({ service: 's', level: 'info', nodeEnv: 'development', pretty: true }).transport)
})

test('credentials a client puts in a URL are redacted from the logged URL; the rest of it is kept', () => {
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'
  assert.equal(redactUrl(`/api/v1/timeline?limit=5&access_token=${jwt}&Password=hunter2&cursor=abc`), '/api/v1/timeline?limit=5&access_token=[redacted]&Password=[redacted]&cursor=abc')
  assert.equal(redactUrl(`/api/v1/urls/${jwt}`), '/api/v1/urls/[redacted]')
  assert.equal(redactUrl('/api/v1/x?api%5Fkey=k&token&%ZZ=1'), '/api/v1/x?api%5Fkey=[redacted]&token=[redacted]&%ZZ=1')
  assert.equal(redactUrl('/api/v1/users/123/posts?limit=20'), '/api/v1/users/123/posts?limit=20')
})
