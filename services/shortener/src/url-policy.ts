// What may be shortened and which aliases may be taken. Everything here is checked before
// anything is written, and each refusal says exactly why.
import createError from '@fastify/error'

export const MAX_URL_LENGTH = 2_048
export const ALIAS_PATTERN = /^[A-Za-z0-9_-]{3,32}$/

export const UrlRefused = createError('SHORTENER_URL_REFUSED', '%s', 400)
export const AliasReserved = createError('SHORTENER_ALIAS_RESERVED', 'The alias "%s" is reserved', 400)

/** Paths the gateway and services own, or may own: an alias must never shadow them. */
export const RESERVED_ALIASES = new Set([
  'api', 'health', 'docs', 'openapi', 'openapi.json', 'metrics', 'static', 'assets', 'admin',
  'login', 'logout', 'signup', 'register', 'auth', 'oauth', 'favicon.ico', 'robots.txt',
  'well-known', '.well-known', 'status', 'about', 'help', 'settings', 'me', 'urls', 'users',
  'posts', 'timeline', 'notifications', 'www', 'null', 'undefined'
])

/**
 * The URL to store, normalised by the WHATWG parser (so IDN hosts become punycode), or a
 * refusal. `selfHosts` are the hostnames that reach this shortener: links back to it would
 * make redirect loops.
 */
export function checkTargetUrl (raw: string, selfHosts: ReadonlySet<string>): string {
  if (raw.length > MAX_URL_LENGTH) throw new UrlRefused(`The URL is longer than ${MAX_URL_LENGTH} characters`)
  // The URL parser silently drops tabs and newlines and trims control characters; a link
  // that contains them is either a mistake or a disguise.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/.test(raw)) {
    throw new UrlRefused('The URL contains whitespace, control or invisible formatting characters')
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UrlRefused('The URL is not an absolute URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused(`Only http and https URLs can be shortened, not ${url.protocol.replace(/:$/, '')}`)
  if (url.hostname === '') throw new UrlRefused('The URL has no host')
  if (url.username !== '' || url.password !== '') throw new UrlRefused('The URL must not carry credentials')
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  if (selfHosts.has(host) || selfHosts.has(url.host.toLowerCase())) throw new UrlRefused('The URL points back at this shortener')
  const normalised = url.toString()
  if (normalised.length > MAX_URL_LENGTH) throw new UrlRefused(`The URL is longer than ${MAX_URL_LENGTH} characters once normalised`)
  return normalised
}

export function checkAlias (alias: string): string {
  if (!ALIAS_PATTERN.test(alias)) throw new UrlRefused('An alias is 3 to 32 letters, digits, "_" or "-"')
  if (RESERVED_ALIASES.has(alias.toLowerCase())) throw new AliasReserved(alias)
  return alias
}

/** Hostnames (and host:port pairs) that reach this shortener, from its public base URL plus extras. */
export function selfHostsOf (publicBaseUrl: string, extra: string): Set<string> {
  const base = new URL(publicBaseUrl)
  const hosts = new Set([base.hostname.toLowerCase(), base.host.toLowerCase()])
  for (const h of extra.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) hosts.add(h)
  return hosts
}
