// `./run test:compose`: the compose stack as a newcomer gets it. Builds the images, starts
// docker-compose.yml and waits until every container is healthy, then goes through the
// published ports only: the gateway on 8080 for the product, Jaeger on 16686 and Prometheus on
// 9090 for what it leaves behind. Runs as its own compose project and removes it (volumes too)
// at the end. Each phase prints how long it took.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { apiRequest, type ApiAnswer, type ApiRequestOptions } from '@shortfeed/infra/client'
import { eventually, uniqueName } from '../harness.ts'

const root = new URL('../../', import.meta.url).pathname
const project = process.env['COMPOSE_TEST_PROJECT'] ?? 'shortfeed-test'
const gateway = 'http://127.0.0.1:8080'
const jaeger = 'http://127.0.0.1:16686'
const prometheus = 'http://127.0.0.1:9090'

/** Runs `docker compose -p <project> …` in the repository, its output streamed to ours. */
function compose (...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['compose', '-p', project, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('error', reject)
    child.once('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`docker compose ${args.join(' ')} exited with ${code}`)) })
  })
}

async function composeOutput (...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', ['compose', '-p', project, ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

const started = Date.now()
async function phase<T> (name: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now()
  const result = await work()
  console.log(`[compose] ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s (at ${((Date.now() - started) / 1000).toFixed(1)} s)`)
  return result
}

async function api<T = Record<string, unknown>> (method: string, path: string, options: ApiRequestOptions = {}): Promise<ApiAnswer<T>> {
  return await apiRequest<T>(gateway, method, path, options)
}

/** As a polite client does: a 429 waits out its Retry-After and asks again. */
async function patiently<T> (call: () => ReturnType<typeof api<T>>): ReturnType<typeof api<T>> {
  for (;;) {
    const res = await call()
    if (res.status !== 429) return res
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? '1') * 1_000))
  }
}

async function signUp (prefix: string) {
  const handle = uniqueName(prefix).slice(0, 30)
  const password = 'correct horse battery'
  // Sign-ups and sign-ins share the login budget (10 a minute per address): many users from
  // this one address wait for it.
  const user = await patiently(() => api<{ id: string }>('POST', '/api/v1/users', { body: { handle, password } }))
  assert.equal(user.status, 201, JSON.stringify(user.body))
  const token = await patiently(() => api<{ accessToken: string }>('POST', '/api/v1/auth/token', { body: { handle, password } }))
  assert.equal(token.status, 200)
  return { id: user.body.id, handle, token: token.body.accessToken }
}

before(async () => {
  await phase('build the images', () => compose('build'))
  await phase('up until every container is healthy', () => compose('up', '--detach', '--wait', '--wait-timeout', '300'))
}, { timeout: 25 * 60_000 })

after(async () => {
  await phase('down, volumes removed', () => compose('down', '--volumes', '--remove-orphans', '--timeout', '20'))
}, { timeout: 5 * 60_000 })

test('through the gateway alone: sign-ups, a link followed, a follow, a post with an @mention on the timeline and live on the stream; its trace and metrics recorded', { timeout: 10 * 60_000 }, async () => {
  const [ada, bob] = await phase('two users sign up', () => Promise.all([signUp('ada'), signUp('bob')]))

  const link = await phase('a link is shortened and followed', async () => {
    const created = await api<{ code: string, shortUrl: string }>('POST', '/api/v1/urls', { token: ada.token, body: { url: 'https://example.com/compose' } })
    assert.equal(created.status, 201)
    const followed = await api('GET', `/${created.body.code}`)
    assert.equal(followed.status, 302)
    assert.equal(followed.headers.get('location'), 'https://example.com/compose')
    return created.body
  })
  assert.match(link.shortUrl, /^http:\/\/localhost:8080\/\w{7}$/)
  await phase('the click is counted by shortener-clicks', () => eventually(
    async () => (await api<{ clicks: number }>('GET', `/api/v1/urls/${link.code}`)).body.clicks, (clicks) => clicks === 1, 90_000))

  await phase('the web UI is served at / with its assets under /_/', async () => {
    const page = await fetch(`${gateway}/`)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /<div id="app"><\/div>/)
    const script = /src="(\/_\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script, 'the page loads its bundle from /_/')
    assert.equal((await fetch(`${gateway}${script}`)).status, 200)
    assert.deepEqual(await (await fetch(`${gateway}/_/config.json`)).json(), { traceUiUrl: 'http://localhost:16686' })
  })

  // Bob follows Ada and listens; Ada posts and mentions him.
  const controller = new AbortController()
  after(() => { controller.abort() })
  let received = ''
  await phase('bob opens his notification stream', async () => {
    const stream = await fetch(`${gateway}/api/v1/notifications/stream`, { headers: { authorization: `Bearer ${bob.token}` }, signal: controller.signal })
    assert.equal(stream.status, 200)
    void (async () => {
      try {
        for await (const chunk of stream.body!) received += Buffer.from(chunk).toString()
      } catch {}
    })()
    await eventually(() => received, (text) => text.startsWith('retry:'))
  })
  assert.equal((await api('PUT', `/api/v1/me/following/${ada.id}`, { token: bob.token })).status, 204)
  const post = await api<{ id: string }>('POST', '/api/v1/posts', { token: ada.token, body: { text: `hello @${bob.handle}, from compose` } })
  assert.equal(post.status, 201)

  await phase('the post is on bob\'s home timeline', () => eventually(
    async () => (await api<{ items: Array<{ id: string }> }>('GET', '/api/v1/timeline', { token: bob.token })).body.items.map((i) => i.id),
    (ids) => ids.includes(post.body.id), 60_000))
  await phase('the mention arrives on bob\'s stream', () => eventually(() => received, (text) => text.includes(`@${ada.handle} mentioned you`), 60_000))

  await phase('the post\'s trace reached the tracing backend (gateway → timeline → Kafka → fan-out)', async () => {
    const page = await (await fetch(`${jaeger}/`)).text()
    if (!page.includes('offline stub')) {
      // The real Jaeger: its query API has the trace of the POST, down to the fan-out worker.
      const trace = await eventually(async () => {
        const res = await fetch(`${jaeger}/api/traces?service=gateway&limit=100&lookback=1h`)
        const traces = (await res.json() as { data?: Array<{ spans: Array<{ operationName: string, processID: string }>, processes: Record<string, { serviceName: string }> }> }).data ?? []
        return traces.find((t) => Object.values(t.processes).some((p) => p.serviceName === 'timeline-fanout'))
      }, (found) => found !== undefined, 90_000)
      const services = new Set(Object.values(trace!.processes).map((p) => p.serviceName))
      for (const service of ['gateway', 'timeline', 'timeline-fanout']) assert.ok(services.has(service), `${service} missing from the trace`)
      return
    }
    // An offline stand-in (docker-kit) keeps no traces; its collector counts spans per service and
    // names them: the same hops must have arrived there.
    // Waits for the fan-out worker's own post.created span: the timeline's publish span names
    // the topic too, and can arrive a batch earlier.
    const fanoutConsumed = /<td>timeline-fanout<\/td><td>\d+<\/td><td>[^<]*post\.created/
    const seen = await eventually(
      () => composeOutput('exec', '-T', 'otel-collector', 'node', '-e', 'fetch("http://127.0.0.1:55679/").then((r) => r.text()).then((t) => process.stdout.write(t))'),
      (html) => ['gateway', 'timeline', 'timeline-fanout'].every((service) => html.includes(`<td>${service}</td>`)) && fanoutConsumed.test(html), 90_000)
    assert.match(seen, fanoutConsumed)
  })

  await phase('docker stop is a graceful shutdown: SIGTERM reaches Node, which drains and exits 0', async () => {
    const id = (await composeOutput('ps', '--quiet', 'shortener')).trim()
    await compose('stop', '--timeout', '30', 'shortener')
    const { stdout } = await promisify(execFile)('docker', ['inspect', '--format', '{{.State.ExitCode}}', id])
    assert.equal(stdout.trim(), '0')
    assert.match(await composeOutput('logs', 'shortener'), /"signal":"SIGTERM","msg":"shutting down gracefully"/)
    await compose('start', 'shortener')
  })

  await phase('the gateway\'s request metric is in Prometheus', async () => {
    const query = encodeURIComponent('sum(gateway_request_duration_count{route="POST /api/v1/posts",status="201"})')
    await eventually(async () => {
      const body = await (await fetch(`${prometheus}/api/v1/query?query=${query}`)).json() as { data: { result: Array<{ value: [number, string] }> } }
      return Number(body.data.result[0]?.value[1] ?? 0)
    }, (posts) => posts >= 1, 60_000)
  })
})

/** One number per Prometheus series of an instant query, keyed by one of its labels. */
async function series (query: string, label = 'instance'): Promise<Record<string, number>> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)
  const body = await res.json() as { data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
  return Object.fromEntries(body.data.result.map((r) => [r.metric[label] ?? '?', Number(r.value[1])]))
}

/** A probe that waits a second first: polls through the gateway stay inside the read budget. */
function paced<T> (probe: () => Promise<T>): () => Promise<T> {
  return async () => { await new Promise((resolve) => setTimeout(resolve, 1_000)); return probe() }
}

/** Every instance Prometheus found for the service has a positive value. */
function everyInstance (expected: number) {
  return (values: Record<string, number>) => Object.keys(values).length === expected && Object.values(values).every((v) => v > 0)
}

test('scaled out: every instance of each service serves some of the traffic, and nothing is lost or duplicated', { timeout: 15 * 60_000 }, async () => {
  const scale = { shortener: 3, timeline: 2, 'timeline-fanout': 2, notifier: 2 }
  await phase(`scale to ${JSON.stringify(scale)}`, () => compose('up', '--detach', '--wait', '--wait-timeout', '300',
    ...Object.entries(scale).flatMap(([service, n]) => ['--scale', `${service}=${n}`])))
  // The gateway re-resolves its upstreams' names every 5 s: wait until it spreads over all of them.
  await phase('the gateway balances over every instance', () => eventually(() => series('gateway_upstream_instances', 'upstream'),
    (n) => n['shortener'] === scale.shortener && n['timeline'] === scale.timeline && n['notifier'] === scale.notifier, 120_000))

  const reader = await signUp('reader')
  // Two streams for one user: the gateway puts them on different notifier instances, and each
  // must get every notification whichever instance consumed the event.
  const controller = new AbortController()
  after(() => { controller.abort() })
  const streams = ['', '']
  await phase('the reader opens two notification streams', async () => {
    for (let i = 0; i < streams.length; i++) {
      const stream = await fetch(`${gateway}/api/v1/notifications/stream`, { headers: { authorization: `Bearer ${reader.token}` }, signal: controller.signal })
      assert.equal(stream.status, 200)
      void (async () => {
        try {
          for await (const chunk of stream.body!) streams[i] += Buffer.from(chunk).toString()
        } catch {}
      })()
      await eventually(() => streams[i]!, (text) => text.startsWith('retry:'))
    }
  })
  await phase('the streams are held by both notifier instances', () => eventually(
    () => series('notifier_sse_connections'), everyInstance(scale.notifier), 60_000))

  // Authors on many partitions (a post's key is its author), so both fan-out workers get some.
  const authors = await phase('twelve authors sign up; the reader follows them all', async () => {
    const list = []
    for (let i = 0; i < 12; i++) list.push(await signUp('author'))
    for (const a of list) assert.equal((await api('PUT', `/api/v1/me/following/${a.id}`, { token: reader.token })).status, 204)
    return list
  })
  const posted: string[] = []
  await phase('authors post, mentioning the reader, until both fan-out workers have pushed some', async () => {
    // A round at a time, each given time to be scraped: a worker that joined its group late may
    // have had no partition for the first round.
    let spread = false
    for (let round = 0; round < 5 && !spread; round++) {
      for (const a of authors) {
        const res = await api<{ id: string }>('POST', '/api/v1/posts', { token: a.token, body: { text: `scaled hello @${reader.handle} #${posted.length}` } })
        assert.equal(res.status, 201)
        posted.push(res.body.id)
      }
      spread = await eventually(() => series('sum by (instance) (timeline_fanout_size_count)'), everyInstance(scale['timeline-fanout']), 30_000)
        .then(() => true, () => false)
    }
    assert.ok(spread, 'both fan-out workers pushed posts')
  })

  const links = await phase('links are shortened and each followed five times', async () => {
    const codes: string[] = []
    for (let i = 0; i < 6; i++) {
      const created = await api<{ code: string }>('POST', '/api/v1/urls', { token: reader.token, body: { url: `https://example.com/scaled/${i}` } })
      assert.equal(created.status, 201)
      codes.push(created.body.code)
    }
    for (let round = 0; round < 5; round++) {
      for (const code of codes) assert.equal((await api('GET', `/${code}`)).status, 302)
    }
    return codes
  })

  await phase('every post is on the reader\'s timeline exactly once', async () => {
    const seen = await eventually(paced(async () => {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const page: { status: number, body: { items: Array<{ id: string }>, nextCursor: string | null } } =
          await api('GET', `/api/v1/timeline?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: reader.token })
        assert.equal(page.status, 200)
        ids.push(...page.body.items.map((i) => i.id))
        cursor = page.body.nextCursor
      } while (cursor)
      return ids
    }), (ids) => posted.every((id) => ids.includes(id)), 120_000)
    const mine = seen.filter((id) => posted.includes(id))
    assert.equal(mine.length, posted.length, 'no post twice')
  })
  await phase('every mention reached both streams exactly once', async () => {
    // One message per mention handled (a new notification, or one folded into the latest), on
    // every stream of the user, whichever notifier instance consumed the event.
    const count = (text: string) => (text.match(/mentioned you/g) ?? []).length
    await eventually(() => streams.map(count), (counts) => counts.every((n) => n >= posted.length), 120_000)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    assert.deepEqual(streams.map(count), [posted.length, posted.length])
    // The streams are still open (a request is counted when it ends): the list is read too.
    for (let i = 0; i < 4; i++) assert.equal((await api('GET', '/api/v1/notifications?limit=5', { token: reader.token })).status, 200)
  })
  await phase('every click is counted exactly once', () => eventually(
    paced(() => Promise.all(links.map(async (code) => (await api<{ clicks: number }>('GET', `/api/v1/urls/${code}`, { token: reader.token })).body.clicks))),
    (clicks) => clicks.every((n) => n === 5), 90_000))
  await phase('every instance served some requests', async () => {
    const served = (service: string) => `sum by (instance) (service_request_duration_count{service="${service}",route!~"/health/.*|/metrics"})`
    await eventually(() => series(served('shortener')), everyInstance(scale.shortener), 60_000)
    await eventually(() => series(served('timeline')), everyInstance(scale.timeline), 60_000)
    await eventually(() => series(served('notifier')), everyInstance(scale.notifier), 60_000)
  })
})
