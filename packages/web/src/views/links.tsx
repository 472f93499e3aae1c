// Shorten a link (alias, expiry, 301/302), copy it, scan it; my links with click counts that
// refresh while the page is open, each with its analytics page (link-stats.tsx); "check the
// redirect" shows what the cache did.
import { useEffect, useState } from 'preact/hooks'
import { CACHE_WORDS, call, type Link, type Page, type RedirectPreview } from '../api.ts'
import { ErrorMessage } from '../components/error-message.tsx'
import { QrCode } from '../components/qr-code.tsx'

const TTL_CHOICES: Array<[string, string]> = [['', 'Never'], ['3600', 'In an hour'], ['86400', 'In a day'], ['604800', 'In a week']]
/** Click counts are aggregated from Kafka every few hundred ms; a few seconds is "live". */
const REFRESH_MS = 3_000

function CopyButton ({ text }: { text: string }) {
  const [copied, setCopied] = useState(false)
  async function copy () {
    try {
      await navigator.clipboard.writeText(text)
      setCopied(true)
      setTimeout(() => { setCopied(false) }, 2_000)
    } catch {
      setCopied(false)
    }
  }
  return <button type='button' onClick={copy} aria-live='polite'>{copied ? 'Copied' : 'Copy'}</button>
}

function RedirectCheck ({ code }: { code: string }) {
  const [preview, setPreview] = useState<RedirectPreview | null>(null)
  const [error, setError] = useState<unknown>(null)
  async function check () {
    setError(null)
    try {
      setPreview(await call<RedirectPreview>('GET', `/api/v1/urls/${code}/redirect`, { action: `Check the redirect of ${code}` }))
    } catch (err) {
      setError(err)
    }
  }
  return (
    <span class='check'>
      <button type='button' class='secondary' onClick={check} aria-label={`Check redirect of ${code}`}>Check redirect</button>
      {preview && <span class='outcome' data-cache={preview.cache}>{preview.status} → {CACHE_WORDS[preview.cache]}</span>}
      <ErrorMessage error={error} />
    </span>
  )
}

export function LinksView () {
  const [created, setCreated] = useState<Link | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [links, setLinks] = useState<Link[] | null>(null)
  const [listError, setListError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  async function refresh (action = 'Refresh my links') {
    try {
      setLinks((await call<Page<Link>>('GET', '/api/v1/me/urls?limit=20', { action })).items)
      setListError(null)
    } catch (err) {
      setListError(err)
    }
  }

  useEffect(() => {
    void refresh('Load my links')
    const timer = setInterval(() => { if (document.visibilityState === 'visible') void refresh() }, REFRESH_MS)
    return () => { clearInterval(timer) }
  }, [])

  async function shorten (event: Event) {
    event.preventDefault()
    const formElement = event.currentTarget as HTMLFormElement
    const form = new FormData(formElement)
    const alias = String(form.get('alias') ?? '').trim()
    const ttl = String(form.get('ttl') ?? '')
    const body = {
      url: String(form.get('url') ?? '').trim(),
      ...(alias ? { alias } : {}),
      ...(ttl ? { ttlSeconds: Number(ttl) } : {}),
      permanent: form.get('permanent') === 'on'
    }
    setBusy(true)
    setError(null)
    try {
      const headers = { 'idempotency-key': crypto.randomUUID() }
      setCreated(await call<Link>('POST', '/api/v1/urls', { action: 'Shorten a link', body, headers }))
      formElement.reset()
      await refresh()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <section class='card' aria-labelledby='shorten-title'>
        <h1 id='shorten-title'>Shorten a link</h1>
        <form onSubmit={shorten} class='grid'>
          <div class='wide'>
            <label for='url'>Long URL</label>
            <input id='url' name='url' type='url' required placeholder='https://example.com/a/long/path' />
          </div>
          <div>
            <label for='alias'>Custom alias (optional)</label>
            <input id='alias' name='alias' minLength={3} maxLength={32} pattern='[A-Za-z0-9_\-]+' aria-describedby='alias-hint' />
            <p id='alias-hint' class='hint'>3 to 32 letters, digits, _ or -.</p>
          </div>
          <div>
            <label for='ttl'>Expires</label>
            <select id='ttl' name='ttl'>{TTL_CHOICES.map(([value, label]) => <option value={value} key={value}>{label}</option>)}</select>
          </div>
          <div class='wide'>
            <input id='permanent' name='permanent' type='checkbox' />
            <label for='permanent' class='inline'>Permanent redirect (301: browsers remember it, so later clicks are not counted)</label>
          </div>
          <div class='wide'><button type='submit' disabled={busy}>Shorten</button></div>
        </form>
        <ErrorMessage error={error} />
        {created && (
          <div class='result' aria-live='polite'>
            <p>
              Your short link: <a href={created.shortUrl} target='_blank' rel='noreferrer' data-testid='short-url'>{created.shortUrl}</a>
              {' '}<CopyButton text={created.shortUrl} />
            </p>
            <QrCode value={created.shortUrl} />
          </div>
        )}
      </section>

      <section class='card' aria-labelledby='my-links-title'>
        <h2 id='my-links-title'>My links <span class='hint'>(click counts refresh every {REFRESH_MS / 1000} s)</span></h2>
        <ErrorMessage error={listError} />
        {links === null && !listError && <p>Loading…</p>}
        {links?.length === 0 && <p>No links yet: shorten one above.</p>}
        {links && links.length > 0 && (
          <table>
            <caption class='visually-hidden'>Your links with their click counts</caption>
            <thead>
              <tr>
                <th scope='col'>Short link</th>
                <th scope='col'>Goes to</th>
                <th scope='col'>Clicks</th>
                <th scope='col'>Analytics</th>
                <th scope='col'>Redirect</th>
              </tr>
            </thead>
            <tbody>
              {links.map((link) => (
                <tr key={link.code}>
                  <td><a href={link.shortUrl} target='_blank' rel='noreferrer'>{link.code}</a></td>
                  <td class='url'>{link.url}</td>
                  <td data-testid={`clicks-${link.code}`}>{link.clicks ?? 0}</td>
                  <td><a href={`#/links/${link.code}`} aria-label={`Stats of ${link.code}`}>Stats</a></td>
                  <td><RedirectCheck code={link.code} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  )
}
