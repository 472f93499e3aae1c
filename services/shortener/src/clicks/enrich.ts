// Where a click came from, in three bounded values the aggregator can count: the client's
// country (an IP-to-country database an npm package ships, read with maxmind: no network
// lookup, loaded once), the referrer's host, and a device class. The raw address never leaves
// this process: url.clicked carries the country, not the IP.
//
// It runs in the click publisher's flush, off the redirect's path, and costs ~2.5 µs a click
// (bench/enrichment.ts): the country ~1.8 µs (the range check and the mmdb lookup), the
// referrer's host a regular expression, and the device class an LRU hit — user agents repeat,
// and parsing one costs ~20 µs.
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import Bowser from 'bowser'
import { isbot } from 'isbot'
import { LRUCache } from 'lru-cache'
import maxmind from 'maxmind'
import { inNetworks, networkList, PRIVATE_NETWORKS } from '@shortfeed/common'

/** ip-location-db's records are { country_code }, not MaxMind's own shape. */
interface CountryReader { get: (ip: string) => { country_code?: string } | null }

export const DeviceClasses = ['desktop', 'mobile', 'tablet', 'tv', 'bot', 'unknown'] as const
export type DeviceClass = typeof DeviceClasses[number]

/** The value counted for a click without a Referer header. */
export const DIRECT = '(direct)'
export const UNKNOWN = 'unknown'

export interface ClickOrigin {
  ip: string
  referrer?: string | undefined
  userAgent?: string | undefined
}

export interface Enrichment {
  country: string
  referrerHost: string
  device: DeviceClass
}

export interface ClickEnricher {
  enrich: (origin: ClickOrigin) => Enrichment
}

/** GeoFeed + whois + ASN country data (CC BY 4.0, NRO), via @ip-location-db; README names it. */
export function defaultGeoDatabase (): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb')
}

// Loopback, private, link-local, CGNAT, "this network" and unique-local ranges: a country means
// nothing there.
const NOT_PUBLIC = networkList([...PRIVATE_NETWORKS, '0.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '::/128', 'fe80::/10'])

export function referrerHost (referrer: string | undefined): string {
  if (!referrer) return DIRECT
  // scheme://[userinfo@]host[:port]/…: a regular expression, not `new URL`, which costs more
  // than everything else here together. Hosts are case-insensitive; "www." says nothing.
  const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)/i.exec(referrer)?.[1]
  if (!host || host.length > 253) return UNKNOWN
  return host.toLowerCase().replace(/^www\./, '')
}

export function deviceClass (userAgent: string | undefined): DeviceClass {
  if (!userAgent) return UNKNOWN
  if (isbot(userAgent)) return 'bot'
  const type = Bowser.parse(userAgent).platform.type
  return type === 'desktop' || type === 'mobile' || type === 'tablet' || type === 'tv' ? type : UNKNOWN
}

export async function createClickEnricher (options: { geoDatabase?: string | undefined } = {}): Promise<ClickEnricher> {
  // ip-location-db's records are { country_code }, not MaxMind's own shape.
  const reader = await maxmind.open(options.geoDatabase ?? defaultGeoDatabase()) as unknown as CountryReader
  const devices = new LRUCache<string, DeviceClass>({ max: 2_000 })

  function country (ip: string): string {
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
    const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip
    if (isIP(address) === 0 || inNetworks(NOT_PUBLIC, address)) return UNKNOWN
    return reader.get(address)?.country_code ?? UNKNOWN
  }

  return {
    enrich ({ ip, referrer, userAgent }) {
      let device = userAgent ? devices.get(userAgent) : UNKNOWN
      if (device === undefined) {
        device = deviceClass(userAgent)
        devices.set(userAgent!, device)
      }
      return { country: country(ip), referrerHost: referrerHost(referrer), device }
    }
  }
}
