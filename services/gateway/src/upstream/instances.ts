// The instances behind an upstream's configured URLs. A service name may stand for several
// instances: Docker's DNS answers `shortener` with every container of `--scale shortener=3`,
// and a Kubernetes headless Service with every ready pod. undici would connect to one address
// per name for as long as the connection lives, so the gateway resolves the names itself, to
// every address, and again every UPSTREAM_RESOLVE_INTERVAL_MS: instances that start are used
// within one interval, instances that go are dropped (their in-flight requests finish first).
//
// No library does this for undici's Pool (undici's own balancer takes a fixed list), and the
// work is one lookup and a set difference, so it is written here.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

export type Resolve = (hostname: string) => Promise<Array<{ address: string, family: number }>>

const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true })

/**
 * Origins (`http://10.0.0.5:8081`) for these base URLs, one per address each name resolves to,
 * sorted and without duplicates. IP literals stay as they are; so do https URLs, whose
 * certificate names the host, not its address. IPv4 addresses are preferred where a name has
 * both (`localhost`: a server listening on 127.0.0.1 refuses ::1).
 */
export async function resolveOrigins (urls: readonly string[], resolve: Resolve = systemResolve): Promise<string[]> {
  const origins = new Set<string>()
  for (const raw of urls) {
    const url = new URL(raw)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host) !== 0 || url.protocol === 'https:') {
      origins.add(url.origin)
      continue
    }
    const addresses = await resolve(host)
    const v4 = addresses.filter((a) => a.family === 4)
    const port = url.port || '80'
    for (const a of v4.length > 0 ? v4 : addresses) origins.add(`${url.protocol}//${a.family === 6 ? `[${a.address}]` : a.address}:${port}`)
  }
  return [...origins].sort()
}

export interface InstanceSetOptions {
  urls: readonly string[]
  /** 0: use the URLs as given, never resolve. */
  intervalMs: number
  /** Called with the new origins whenever the set changes (and once at the first resolution). */
  onChange: (origins: string[]) => void
  onError?: ((err: unknown) => void) | undefined
  resolve?: Resolve | undefined
}

/** Re-resolves the URLs on an interval and reports changes; a failed lookup keeps the last set. */
export function watchInstances (options: InstanceSetOptions): { refresh: () => Promise<void>, stop: () => void } {
  let known = ''
  async function refresh () {
    try {
      const origins = await resolveOrigins(options.urls, options.resolve)
      // No address at all (every instance gone at once, or DNS not ready yet): keep the last set,
      // whose retries and breaker say the truth better than an empty list would.
      if (origins.length === 0 || origins.join(',') === known) return
      known = origins.join(',')
      options.onChange(origins)
    } catch (err) {
      options.onError?.(err)
    }
  }
  if (options.intervalMs <= 0) return { refresh: async () => {}, stop: () => {} }
  const timer = setInterval(() => { void refresh() }, options.intervalMs)
  timer.unref()
  void refresh()
  return { refresh, stop: () => { clearInterval(timer) } }
}
