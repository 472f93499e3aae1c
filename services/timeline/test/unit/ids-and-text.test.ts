import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, request } from 'node:http'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { createPasswordHasher, untilClientLeaves, type DeriveKey } from '../../src/auth/passwords.ts'
import { createSnowflake, EPOCH_MS, snowflakeTime } from '../../src/ids/snowflake.ts'
import { checkPostText } from '../../src/text-policy.ts'
import { mergeNewestFirst } from '../../src/timelines/home-timeline.ts'

describe('snowflake ids', () => {
  test('10 000 ids in the same millisecond are unique and increasing', () => {
    const ids = createSnowflake(7, () => EPOCH_MS + 1_000)
    const issued = Array.from({ length: 10_000 }, () => BigInt(ids.nextId()))
    for (let i = 1; i < issued.length; i++) assert.ok(issued[i]! > issued[i - 1]!)
  })

  test('they carry their creation time and sort by it', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 1023 }), (offset, worker) => {
      const id = createSnowflake(worker, () => EPOCH_MS + offset).nextId()
      return snowflakeTime(id) === EPOCH_MS + offset
    }))
  })

  test('a clock that steps back never yields a smaller id', () => {
    let now = EPOCH_MS + 10_000
    const ids = createSnowflake(1, () => now)
    const first = BigInt(ids.nextId())
    now -= 5_000
    assert.ok(BigInt(ids.nextId()) > first)
  })

  test('worker ids outside 0–1023 are refused', () => {
    assert.throws(() => createSnowflake(1024), RangeError)
  })
})

describe('post text', () => {
  test('is trimmed and NFC-normalised; length counts characters, not UTF-16 units', () => {
    assert.equal(checkPostText('  hi  '), 'hi')
    assert.equal(checkPostText('e\u0301'), 'é')
    assert.equal(checkPostText('😀'.repeat(280)).length, 560)
  })
  test('empty, too long, or disguised text is refused', () => {
    assert.throws(() => checkPostText('   \n '), /needs some text/)
    assert.throws(() => checkPostText('x'.repeat(281)), /at most 280/)
    assert.throws(() => checkPostText('safe\u202Etxt.exe'), /control/)
    assert.throws(() => checkPostText('bell\u0007'), /control/)
  })
})

describe('merging timelines', () => {
  test('newest first, duplicates once, across id lengths', () => {
    assert.deepEqual(mergeNewestFirst(['30', '10'], ['20', '10', '100']), ['100', '30', '20', '10'])
  })
})

describe('passwords', () => {
  const turnTaken = () => new Promise((resolve) => setImmediate(resolve))

  /**
   * A key derivation whose hashes end only when the test says so: the queue's state is then
   * the test's to observe, however fast or busy the machine is.
   */
  function heldDerivation () {
    const started: Array<{ password: string, finish: () => void }> = []
    const deriveKey: DeriveKey = async (password, _salt, keylen) => {
      await new Promise<void>((resolve) => { started.push({ password, finish: resolve }) })
      return Buffer.alloc(keylen, password)
    }
    return { deriveKey, started }
  }

  test('a hash verifies its password and no other, and is salted', async () => {
    const passwords = createPasswordHasher()
    const [a, b] = await Promise.all([passwords.hash('correct horse'), passwords.hash('correct horse')])
    assert.notEqual(a, b)
    assert.match(a, /^scrypt\$32768\$8\$3\$/)
    assert.equal(await passwords.verify('correct horse', a), true)
    assert.equal(await passwords.verify('correct horsf', a), false)
    assert.equal(await passwords.burn('correct horse'), false)
  })

  test('a burst of hashes runs two at a time, the rest wait their turn however long the first take', async (t) => {
    // The wait's clock is the test's: it never runs out here, so only the order is observed.
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const held = heldDerivation()
    const passwords = createPasswordHasher({ deriveKey: held.deriveKey })
    const burst = Array.from({ length: 3 }, (_, i) => passwords.hash(`password ${i}`))
    assert.deepEqual(passwords.load(), { running: 2, waiting: 1 })
    while (held.started.length < 2) await turnTaken()
    assert.deepEqual(held.started.map((h) => h.password), ['password 0', 'password 1'])
    held.started[0]!.finish()
    while (held.started.length < 3) await turnTaken()
    assert.deepEqual(passwords.load(), { running: 2, waiting: 0 }, 'the third starts when the first ends')
    for (const h of held.started.slice(1)) h.finish()
    assert.equal(new Set(await Promise.all(burst)).size, 3)
    assert.deepEqual(passwords.load(), { running: 0, waiting: 0 })
  })

  test('a hash that cannot start within the wait is refused at once as busy (503), and never runs', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const held = heldDerivation()
    const passwords = createPasswordHasher({ concurrency: 1, maxWaitMs: 20, deriveKey: held.deriveKey })
    const first = passwords.hash('the first')
    const second = passwords.hash('the second')
    while (held.started.length < 1) await turnTaken()
    t.mock.timers.tick(20)
    await assert.rejects(second, (err: { statusCode: number, code: string, retryAfterSeconds: number }) => {
      assert.deepEqual([err.statusCode, err.code, err.retryAfterSeconds], [503, 'TIMELINE_PASSWORD_HASHING_BUSY', 1])
      return true
    })
    assert.deepEqual(passwords.load(), { running: 1, waiting: 1 }, 'refused while the first still ran, not at its turn')
    held.started[0]!.finish()
    await first
    await turnTaken()
    assert.deepEqual(passwords.load(), { running: 0, waiting: 0 })
    assert.deepEqual(held.started.map((h) => h.password), ['the first'], 'its turn passed without computing it')
  })

  test('a hash whose client left is dropped from the queue unrun', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const held = heldDerivation()
    const passwords = createPasswordHasher({ concurrency: 1, deriveKey: held.deriveKey })
    const stored = 'scrypt$32768$8$3$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U'
    const first = passwords.verify('the first', stored)
    const client = new AbortController()
    const second = passwords.verify('the second', stored, client.signal)
    assert.deepEqual(passwords.load(), { running: 1, waiting: 1 })
    client.abort(new Error('the client left'))
    await assert.rejects(second, /the client left/)
    while (held.started.length < 1) await turnTaken()
    held.started[0]!.finish()
    assert.equal(await first, false)
    await turnTaken()
    assert.deepEqual(passwords.load(), { running: 0, waiting: 0 })
    assert.deepEqual(held.started.map((h) => h.password), ['the first'])
  })

  test('a request aborts its signal when the client hangs up before the answer, and not after it', async (t) => {
    const signals: AbortSignal[] = []
    const server = createServer((req, res) => {
      signals.push(untilClientLeaves(res))
      if (req.url === '/answered') res.end('ok')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.after(() => server.close())
    const { port } = server.address() as { port: number }

    await new Promise<void>((resolve, reject) => {
      request({ port, path: '/answered' }, (res) => { res.resume().on('end', resolve) }).on('error', reject).end()
    })
    const left = request({ port, path: '/pending' }).on('error', () => {})
    left.end()
    while (signals.length < 2) await turnTaken()
    left.destroy()
    await once(signals[1]!, 'abort')
    assert.equal(signals[0]!.aborted, false, 'an answered request is not aborted')
    assert.equal((signals[1]!.reason as { statusCode: number }).statusCode, 499)
  })
})
