// Clicks as they arrive in production: from many public addresses (forwarded, as the gateway
// does), with browsers and referrers, so click enrichment does its real work in a benchmark
// (from a loopback address the country lookup is skipped).
const AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'
]
const REFERRERS = ['https://news.example/story', 'https://www.social.example/feed', 'https://mail.example/inbox']

/** The i-th request's client: a public address, a browser, a referrer every few. */
export function clickHeaders (i: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-forwarded-for': `${(i * 37) % 200 + 11}.${(i * 13) % 250}.${i % 250}.${(i * 7) % 250 + 1}`,
    'user-agent': AGENTS[i % AGENTS.length]!
  }
  if (i % 4 !== 0) headers['referer'] = REFERRERS[i % REFERRERS.length]!
  return headers
}
