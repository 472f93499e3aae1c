// The images' HEALTHCHECK: healthy while the service's /health/ready answers 200 (its
// dependencies answer too). A script of Node's own, since the slim image has no curl.
const port = process.env.PORT ?? '8080'
try {
  const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) })
  process.exit(res.ok ? 0 : 1)
} catch {
  process.exit(1)
}
