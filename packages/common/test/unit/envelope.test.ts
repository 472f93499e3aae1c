import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { createEvent, decodeEvent, encodeEvent, MalformedEventError } from '../../src/kafka/envelope.ts'
import { deadLetterTopic, Topics } from '../../src/kafka/events.ts'

describe('event envelope', () => {
  test('createEvent fills id, version, occurredAt and source', () => {
    const event = createEvent(Topics.postCreated, { postId: '1' }, { source: 'timeline', occurredAt: new Date('2026-01-02T03:04:05Z') })
    assert.match(event.id, /^[0-9a-f-]{36}$/)
    assert.equal(event.type, 'post.created')
    assert.equal(event.version, 1)
    assert.equal(event.occurredAt, '2026-01-02T03:04:05.000Z')
    assert.equal(event.source, 'timeline')
  })

  test('any JSON data survives encode then decode', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.string({ minLength: 1 }), (data, source) => {
      const event = createEvent('t', data, { source })
      assert.deepEqual(decodeEvent(encodeEvent(event)), JSON.parse(JSON.stringify(event)))
    }))
  })

  for (const [name, value] of [
    ['no value (tombstone)', null],
    ['not JSON', Buffer.from('{"id":')],
    ['a JSON array', Buffer.from('[]')],
    ['an envelope without data source', Buffer.from(JSON.stringify({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', type: 't', version: 1, occurredAt: '2026-01-01T00:00:00Z', data: 1 }))],
    ['an id that is not a uuid', Buffer.from(JSON.stringify({ id: '42', type: 't', version: 1, occurredAt: '2026-01-01T00:00:00Z', source: 's', data: 1 }))]
  ] as const) {
    test(`when the message is ${name}, then decoding throws MalformedEventError`, () => {
      assert.throws(() => decodeEvent(value), MalformedEventError)
    })
  }

  test('dead letters go to <topic>.dlq', () => {
    assert.equal(deadLetterTopic('url.clicked'), 'url.clicked.dlq')
  })
})
