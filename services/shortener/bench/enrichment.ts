// `node services/shortener/bench/enrichment.ts`: what enriching one click costs (services/shortener/src/clicks/enrich.ts),
// part by part, side by side in one run: the country lookup, the referrer's host, the device
// class parsed and from the cache, and the whole enrich() as the click publisher calls it.
// Issue #21 asks for under 5 µs a click, or off the redirect's path (it is both: enrichment runs
// in the publisher's flush, after the response). `./run bench` prices it in a whole redirect too.
import { performance } from 'node:perf_hooks'
import { createClickEnricher, deviceClass, referrerHost } from '../src/clicks/enrich.ts'

const AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'
]
const N = 200_000
const ip = (i: number) => `${(i * 37) % 200 + 11}.${(i * 13) % 250}.${i % 250}.${(i * 7) % 250 + 1}`
const referrer = (i: number) => (i % 4 === 0 ? undefined : `https://www.site${i % 50}.example/page?id=${i}`)

const enricher = await createClickEnricher()
const rounds: Record<string, number[]> = {}

function time (name: string, n: number, work: (i: number) => unknown) {
  let sink = 0
  const start = performance.now()
  for (let i = 0; i < n; i++) sink += work(i) === undefined ? 0 : 1
  const us = (performance.now() - start) * 1000 / n
  ;(rounds[name] ??= []).push(us)
  return sink
}

// Five alternating rounds, each part in each: the median is printed.
for (let round = 0; round < 5; round++) {
  time('country (mmdb lookup, public addresses)', N, (i) => enricher.enrich({ ip: ip(i) }).country)
  time('referrer host', N, (i) => referrerHost(referrer(i)))
  time('device class, parsed (bowser + isbot)', N / 20, (i) => deviceClass(AGENTS[i % AGENTS.length]))
  time('device class, from the cache', N, (i) => enricher.enrich({ ip: '10.0.0.1', userAgent: AGENTS[i % AGENTS.length] }).device)
  time('enrich(): all three, as the publisher calls it', N, (i) =>
    enricher.enrich({ ip: ip(i), referrer: referrer(i), userAgent: AGENTS[i % AGENTS.length] }))
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const width = Math.max(...Object.keys(rounds).map((k) => k.length))
console.log(`click enrichment, µs per click (median of 5 rounds; Node ${process.version})`)
console.log(`${'part'.padEnd(width)}  µs/click`)
console.log(`${'-'.repeat(width)}  --------`)
for (const [name, us] of Object.entries(rounds)) console.log(`${name.padEnd(width)}  ${median(us).toFixed(2).padStart(8)}`)
const total = median(rounds['enrich(): all three, as the publisher calls it']!)
console.log(`target: under 5 µs a click — ${total < 5 ? 'met' : 'MISSED'} (${total.toFixed(2)} µs)`)
