// The web UI in a real browser (Debian's Chromium, headless, driven by playwright-core) against
// the whole stack as `./run stack` starts it: two people sign up, one shortens a link and the
// other follows it, one follows the other and posts with an @mention, the post reaches the
// other's timeline and the notification arrives live. Alice does everything with the keyboard
// alone. axe-core checks each screen; the "under the hood" panel must show what happened
// inside (trace ids that are real traces, rate-limit budgets, the cache outcome, push/pull).
// Screenshots of each step go to test/browser/screenshots/ (ignored by git).
//   ./run test:e2e        (CHROMIUM=/path/to/chromium to use another build)
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startStack, type Stack } from '@shortfeed/infra/stack'
import { chromium, type Browser, type Page } from 'playwright-core'
import { eventually, uniqueName } from '../harness.ts'

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, 'screenshots')
/** Bounds a failure only: on a loaded machine a consumer can take many seconds to catch up. */
const WAIT_MS = 90_000
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

// The link's destination: a page on loopback that Chromium reaches under a public-looking name
// (the shortener refuses loopback targets, rightly).
const destination = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Destination</title><h1>You have arrived</h1>') })
// Spans from every service, as a collector would receive them: the panel's trace ids must be real.
const traceIds = new Set<string>()
const collector = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => { body += chunk.toString() })
  req.on('end', () => {
    if (req.url === '/v1/traces') {
      for (const match of body.matchAll(/"traceId":"([0-9a-f]{32})"/g)) traceIds.add(match[1]!)
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})

let stack: Stack
let browser: Browser
let dataDir: string

function portOf (server: ReturnType<typeof createServer>): number {
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: Debian's chromium package (infra/bin/system-deps.sh installs it), or set CHROMIUM`)
  await Promise.all([destination, collector].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))))
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  dataDir = mkdtempSync(join(tmpdir(), 'shortfeed-e2e-'))
  stack = await startStack({
    dataDir,
    anyPorts: true,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${portOf(collector)}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_METRICS_EXPORTER: 'none'
    },
    processEnv: { gateway: { TRACE_UI_URL: 'http://127.0.0.1:16686' } },
    log: (line) => { process.stderr.write(`[stack] ${line}\n`) }
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      `--host-resolver-rules=MAP dest.example 127.0.0.1:${portOf(destination)}`
    ]
  })
})

after(async () => {
  await browser?.close()
  await stack?.stop()
  destination.close()
  collector.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

let shot = 0
async function screenshot (page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true })
}

/** axe-core in the page (evaluated through the DevTools protocol: the page's CSP allows no inline script). */
async function assertAccessible (page: Page, screen: string) {
  await page.evaluate(axeSource)
  // Page-side code as strings: this file is type-checked for Node, without the DOM's types.
  const violations = await page.evaluate<string[]>(`(async () => {
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    return result.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '))
  })()`)
  assert.deepEqual(violations, [], `axe found problems on the ${screen} screen`)
}

/** Presses Tab until the focused element is the one named (its label, aria-label or text). */
async function tabTo (page: Page, name: RegExp) {
  const seen: string[] = []
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab')
    const focused = await page.evaluate<string>(`(() => {
      const el = document.activeElement
      if (!el) return ''
      const label = el.id ? document.querySelector('label[for="' + el.id + '"]')?.textContent : null
      return (label ?? el.getAttribute('aria-label') ?? el.textContent ?? '').trim()
    })()`)
    if (name.test(focused)) return
    seen.push(focused)
  }
  throw new Error(`Tab never reached ${name}; it went through: ${seen.join(' | ')}`)
}

async function signUpWithKeyboard (page: Page, handle: string) {
  await tabTo(page, /^Handle$/)
  await page.keyboard.type(handle)
  await tabTo(page, /^Password$/)
  await page.keyboard.type('correct horse battery')
  await page.keyboard.press('Enter')
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: WAIT_MS })
}

async function signUp (page: Page, handle: string) {
  await page.getByLabel('Handle', { exact: true }).fill(handle)
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: WAIT_MS })
}

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'

/** A table's body rows as text cells, sorted (its order among equal counts is not the point). */
async function tableRows (page: Page, testId: string): Promise<string[][]> {
  const rows: string[][] = []
  for (const row of await page.getByTestId(testId).locator('tbody tr').all()) rows.push((await row.locator('td').allInnerTexts()).map((t) => t.trim()))
  return rows.sort((x, y) => (x.join() < y.join() ? -1 : 1))
}

/** The newest "under the hood" record for an action. */
function hoodRecord (page: Page, action: RegExp) {
  return page.getByTestId('hood-record').filter({ hasText: action }).first()
}

test('two people use Shortfeed in a browser, and the panel shows the designs at work', async () => {
  const gateway = stack.processes.find((p) => p.name === 'gateway')!.url
  const alice = uniqueName('alice').slice(0, 20)
  const bob = uniqueName('bob').slice(0, 20)
  const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const bobContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const a = await aliceContext.newPage()
  const b = await bobContext.newPage()

  // 1. Sign up: Alice with the keyboard only; Bob with the mouse.
  await b.goto(gateway)
  await assertAccessible(b, 'sign-up')
  await screenshot(b, 'sign-up')
  await a.goto(gateway)
  await signUpWithKeyboard(a, alice)
  await signUp(b, bob)
  const signUpRecord = hoodRecord(a, /^Sign up/)
  const signUpTrace = await signUpRecord.getByTestId('hood-trace').getAttribute('data-trace-id')
  assert.match(signUpTrace ?? '', /^[0-9a-f]{32}$/, 'the sign-up shows its trace')
  assert.equal(await signUpRecord.getByTestId('hood-trace').getByRole('link').getAttribute('href'), `http://127.0.0.1:16686/trace/${signUpTrace}`)

  // 2. Alice shortens a link (keyboard), sees it with a QR code; a reserved alias is refused in words.
  await tabTo(a, /^Long URL$/)
  await a.keyboard.type('http://dest.example/welcome')
  await tabTo(a, /^Custom alias/)
  await a.keyboard.type('admin')
  await a.keyboard.press('Enter')
  await a.getByRole('alert').filter({ hasText: /reserved/ }).waitFor({ timeout: WAIT_MS })
  await tabTo(a, /^Custom alias/)
  await a.keyboard.press('Control+A')
  await a.keyboard.press('Delete')
  await a.keyboard.press('Enter')
  const shortLink = a.getByTestId('short-url')
  await shortLink.waitFor({ timeout: WAIT_MS })
  const shortUrl = (await shortLink.textContent())!
  assert.match(shortUrl, new RegExp(`^${gateway}/[A-Za-z0-9]+$`), 'short links point at the gateway')
  const code = shortUrl.split('/').pop()!
  await a.getByRole('img', { name: `QR code for ${shortUrl}` }).waitFor()
  await assertAccessible(a, 'links')
  await screenshot(a, 'link-shortened')

  // 3. Bob follows the link; Alice's click count goes up while she watches.
  const visit = await bobContext.newPage()
  await visit.goto(shortUrl)
  assert.equal(await visit.getByRole('heading').textContent(), 'You have arrived')
  assert.equal(new URL(visit.url()).host, 'dest.example')
  await visit.close()
  await a.getByTestId(`clicks-${code}`).filter({ hasText: /^1$/ }).waitFor({ timeout: WAIT_MS })
  // The redirect check says how the lookup went: the link was cached when it was created.
  await tabTo(a, new RegExp(`^Check redirect of ${code}$`))
  await a.keyboard.press('Enter')
  await hoodRecord(a, /Check the redirect/).getByTestId('hood-cache').filter({ hasText: 'cache hit (Redis)' }).waitFor()
  await screenshot(a, 'link-clicked')

  // 3b. The link's page: Bob's click by referrer and device (from loopback: no country), as a
  // chart; a click from another browser while Alice watches shows up without a reload.
  await tabTo(a, new RegExp(`^Stats of ${code}$`))
  await a.keyboard.press('Enter')
  await a.getByTestId('stats-total').filter({ hasText: /^1$/ }).waitFor({ timeout: WAIT_MS })
  assert.deepEqual(await tableRows(a, 'stats-referrers'), [['(direct)', '1']])
  assert.deepEqual(await tableRows(a, 'stats-countries'), [['unknown', '1']])
  const phone = await browser.newContext({ userAgent: IPHONE })
  const tap = await phone.newPage()
  await tap.goto(shortUrl, { referer: 'https://www.news.example/story' })
  await phone.close()
  await a.getByTestId('stats-total').filter({ hasText: /^2$/ }).waitFor({ timeout: WAIT_MS })
  assert.deepEqual(await tableRows(a, 'stats-referrers'), [['(direct)', '1'], ['news.example', '1']])
  assert.ok((await tableRows(a, 'stats-devices')).some(([device, clicks]) => device === 'mobile' && clicks === '1'), 'the phone counts as mobile')
  const bars = await Promise.all((await a.getByTestId('stats-chart').locator('rect').all()).map(async (r) => Number(await r.getAttribute('data-clicks'))))
  assert.equal(bars.length, 25, 'a bar per hour of the last day')
  assert.equal(bars.reduce((sum, n) => sum + n, 0), 2)
  await assertAccessible(a, 'link stats')
  await screenshot(a, 'link-stats')

  // 4. Bob finds Alice and follows her; Alice's follow notification arrives live.
  await b.getByRole('link', { name: 'People' }).click()
  await b.getByLabel('Handle').fill(alice)
  await b.getByRole('button', { name: 'Find' }).click()
  await b.getByRole('button', { name: `Follow @${alice}`, exact: true }).click()
  await b.getByRole('status').filter({ hasText: `You follow @${alice}.` }).waitFor()
  await assertAccessible(b, 'people')
  await screenshot(b, 'followed')
  await a.getByTestId('unread-badge').filter({ hasText: /^1$/ }).waitFor({ timeout: WAIT_MS })

  // 5. Alice posts with an @mention (keyboard).
  await tabTo(a, /^Timeline$/)
  await a.keyboard.press('Enter')
  await tabTo(a, /^What is happening/)
  await a.keyboard.type(`Hello @${bob}, welcome to Shortfeed`)
  await tabTo(a, /^Post$/)
  await a.keyboard.press('Enter')
  await a.getByText(`Hello @${bob}, welcome to Shortfeed`).waitFor({ timeout: WAIT_MS })
  await assertAccessible(a, 'timeline')
  await screenshot(a, 'posted')

  // 6. Bob's mention notification arrives live, without a reload; the post reaches his
  // timeline, pushed there by fan-out when it was written.
  await b.getByTestId('unread-badge').filter({ hasText: /^1$/ }).waitFor({ timeout: WAIT_MS })
  await b.getByRole('link', { name: /^Timeline/ }).click()
  // Until fan-out has pushed it, the post is pulled at read time; then it is read as pushed.
  const pushed = b.locator('li.post').filter({ hasText: `Hello @${bob}` }).filter({ hasText: 'pushed at write time' })
  await eventually(async () => {
    if (await pushed.count() === 0) await b.getByRole('button', { name: 'Refresh' }).click()
    return pushed.count()
  }, (n) => n === 1, WAIT_MS)
  await hoodRecord(b, /timeline/).getByTestId('hood-sources').filter({ hasText: /1 pushed at write time/ }).waitFor()
  await screenshot(b, 'timeline')
  await b.getByRole('link', { name: /^Notifications/ }).click()
  await b.getByText(new RegExp(`@${alice} mentioned you`)).waitFor()
  await assertAccessible(b, 'notifications')
  await screenshot(b, 'notification')

  // The panel: budgets left, and trace ids that are real traces the services exported.
  const budget = await hoodRecord(b, /timeline/).getByTestId('hood-rate-limit').textContent()
  assert.match(budget!, /^\d+ of \d+ left \(read, full again in \d+ s\)$/)
  await eventually(() => traceIds.has(signUpTrace!), (found) => found, WAIT_MS)

  // 7. A refusal reads as a sentence with when to retry: sign-ins are limited per address.
  const mallory = await browser.newPage()
  await mallory.goto(gateway)
  await mallory.getByRole('button', { name: 'Sign in instead' }).click()
  const limited = mallory.getByRole('alert').filter({ hasText: /try again in \d+ seconds?/ })
  await eventually(async () => {
    await mallory.getByLabel('Handle', { exact: true }).fill(alice)
    await mallory.getByLabel('Password', { exact: true }).fill('wrong password')
    await mallory.getByRole('button', { name: 'Sign in' }).click()
    await mallory.getByRole('alert').waitFor()
    return limited.count()
  }, (n) => n === 1, WAIT_MS)
  assert.match((await limited.textContent())!, /^Too Many Requests: .+ You can try again in \d+ seconds?\.$/)
  await screenshot(mallory, 'rate-limited')
})
