// What may be shortened and which aliases may be taken. Everything here is checked before
// anything is written, and each refusal says exactly why.
import { domainToASCII, domainToUnicode } from 'node:url'
import createError from '@fastify/error'
import { networkList } from '@shortfeed/common'

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
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlRefused(`Only http and https URLs can be shortened, not ${url.protocol.replace(/:$/, '')}`)
  }
  if (url.hostname === '') throw new UrlRefused('The URL has no host')
  if (url.username !== '' || url.password !== '') throw new UrlRefused('The URL must not carry credentials')
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  if (selfHosts.has(host) || selfHosts.has(url.host.toLowerCase()) || isLoopbackHost(host)) {
    throw new UrlRefused('The URL points back at this shortener')
  }
  const spoof = hostSpoofing(host)
  if (spoof) throw new UrlRefused(`The URL's host ${spoof}`)
  const normalised = url.toString()
  if (normalised.length > MAX_URL_LENGTH) throw new UrlRefused(`The URL is longer than ${MAX_URL_LENGTH} characters once normalised`)
  return normalised
}

// Loopback and "this host" addresses in every spelling the URL parser leaves: 0.0.0.0 and
// [::] reach the local machine on Linux, and [::ffff:7f00:1] is 127.0.0.1.
const loopback = networkList(['127.0.0.0/8', '0.0.0.0/8', '::1/128', '::/128'])

/** A loopback or unspecified address, or a *.localhost name (RFC 6761: always loopback). */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (host.startsWith('[')) return loopback.check(host.slice(1, -1), 'ipv6')
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) && loopback.check(host, 'ipv4')
}

// Scripts a host label's letters may come from; UTS #39's "highly restrictive" level allows one
// script per label, or Latin with the scripts Japanese, Chinese and Korean names mix with it.
const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Cherokee', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo', 'Arabic',
  'Hebrew', 'Thai', 'Devanagari', 'Bengali', 'Tamil', 'Ethiopic'
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }))
const ALLOWED_MIXES = [['Latin', 'Han', 'Hiragana', 'Katakana'], ['Latin', 'Han', 'Bopomofo'], ['Latin', 'Han', 'Hangul']]
// Cyrillic letters drawn like Latin ones (Chromium's list): a label made only of them (аррӏе)
// reads as a Latin name.
const CYRILLIC_LOOKALIKES = /^[асԁеһіјӏорԛѕԝхуъьҽпгѵѡ\d-]+$/u

function scriptsOf (label: string): Set<string> {
  const scripts = new Set<string>()
  for (const char of label) {
    if (!/\p{L}/u.test(char)) continue
    scripts.add(SCRIPTS.find((s) => s.pattern.test(char))?.name ?? `other:${char}`)
  }
  return scripts
}

/**
 * Why a host looks like another name (an IDN homograph), or undefined. Browsers show such
 * hosts as punycode for the same reasons (mixed scripts, whole-script lookalikes); a link
 * service should not lend them its credibility.
 */
export function hostSpoofing (asciiHost: string): string | undefined {
  for (const label of asciiHost.split('.')) {
    if (!label.startsWith('xn--')) continue
    const unicode = domainToUnicode(label)
    if (unicode === label || domainToASCII(unicode) !== label) return `has an invalid internationalised label (${label})`
    const scripts = [...scriptsOf(unicode)]
    if (scripts.length > 1 && !ALLOWED_MIXES.some((mix) => scripts.every((s) => mix.includes(s)))) {
      return `mixes ${scripts.join(' and ')} letters in "${unicode}": refused as a likely lookalike of another name`
    }
    const allLookalikes = scripts.length === 1 && scripts[0] === 'Cyrillic' && CYRILLIC_LOOKALIKES.test(unicode)
    if (allLookalikes && !/\p{Script=Cyrillic}/u.test(domainToUnicode(asciiHost.split('.').at(-1)!))) {
      return `"${unicode}" is written in Cyrillic letters that look Latin: refused as a likely lookalike of another name`
    }
  }
  return undefined
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
