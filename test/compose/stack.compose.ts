// `./run test:compose`: the compose stack as a newcomer gets it. Builds the images, starts
// docker-compose.yml and waits until every container is healthy, then goes through the
// published ports only: the gateway on 8080 for the product, Jaeger on 16686 and Prometheus on
// 9090 for what it leaves behind. Runs as its own compose project and removes it (volumes too)
// at the end. Each phase prints how long it took.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
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

async function api<T = Record<string, unknown>> (method: string, path: string, options: { token?: string, body?: unknown } = {}): Promise<{ status: number, headers: Headers, body: T }> {
  const res = await fetch(`${gateway}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {})
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {})
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T }
}

async function signUp (prefix: string) {
  const handle = uniqueName(prefix).slice(0, 30)
  const password = 'correct horse battery'
  const user = await api<{ id: string }>('POST', '/api/v1/users', { body: { handle, password } })
  assert.equal(user.status, 201, JSON.stringify(user.body))
  const token = await api<{ accessToken: string }>('POST', '/api/v1/auth/token', { body: { handle, password } })
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
    const seen = await eventually(
      () => composeOutput('exec', '-T', 'otel-collector', 'node', '-e', 'fetch("http://127.0.0.1:55679/").then((r) => r.text()).then((t) => process.stdout.write(t))'),
      (html) => ['gateway', 'timeline', 'timeline-fanout'].every((service) => html.includes(`<td>${service}</td>`)) && /post\.created/.test(html), 90_000)
    assert.match(seen, /<td>timeline-fanout<\/td><td>\d+<\/td><td>[^<]*post\.created/)
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
