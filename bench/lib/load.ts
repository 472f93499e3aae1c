// autocannon, the way every scenario uses it: a warm-up that is thrown away, then several
// measured runs whose medians are reported. Targets are measured round-robin (run 1 of each,
// then run 2 of each…) so a noisy minute hurts every row alike rather than one.
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

export interface LoadRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface LoadTarget {
  name: string
  baseUrl: string
  requests: LoadRequest[]
  /** Status the responses must have (anything else is counted as an error). */
  expectStatus: number
  /** Processes serving the target, whose CPU time per answered request is reported. */
  processes?: Array<{ name: string, pid: number }>
}

export interface LoadOptions {
  durationSeconds: number
  warmupSeconds: number
  runs: number
  connections: number
  /** Requests per second over all connections; omitted = as fast as the target answers. */
  rate?: number
}

export interface LoadResult {
  name: string
  /** Medians over the runs. */
  rps: number
  p50: number
  p99: number
  /** Responses with another status, errors and timeouts, summed over the runs. */
  failures: number
  /** CPU time (user + system) per expected response, µs, per serving process (median). */
  cpu: Array<{ name: string, us: number }>
  runs: Array<{ rps: number, p50: number, p99: number }>
}

/** User + system CPU seconds a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // USER_HZ
  } catch {
    return 0
  }
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function once (target: LoadTarget, seconds: number, options: LoadOptions) {
  const cpuBefore = (target.processes ?? []).map((p) => cpuSeconds(p.pid))
  const result = await autocannon({
    url: target.baseUrl,
    connections: options.connections,
    duration: seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: target.requests.map((r) => ({ method: r.method ?? 'GET', path: r.path, headers: r.headers ?? {}, ...(r.body ? { body: r.body } : {}) }))
  })
  const expected = result.statusCodeStats?.[String(target.expectStatus) as keyof typeof result.statusCodeStats]?.count ?? 0
  return {
    rps: expected / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.requests.total - expected + result.errors + result.timeouts,
    cpu: (target.processes ?? []).map((p, i) => ({ name: p.name, us: expected > 0 ? (cpuSeconds(p.pid) - cpuBefore[i]!) / expected * 1e6 : NaN }))
  }
}

export async function measure (targets: LoadTarget[], options: LoadOptions): Promise<LoadResult[]> {
  for (const target of targets) await once(target, options.warmupSeconds, options)
  const runs = new Map<string, Array<Awaited<ReturnType<typeof once>>>>(targets.map((t) => [t.name, []]))
  for (let i = 0; i < options.runs; i++) {
    for (const target of targets) runs.get(target.name)!.push(await once(target, options.durationSeconds, options))
  }
  return targets.map((t) => {
    const r = runs.get(t.name)!
    return {
      name: t.name,
      rps: median(r.map((x) => x.rps)),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      failures: r.reduce((sum, x) => sum + x.failures, 0),
      cpu: (t.processes ?? []).map((p, i) => ({ name: p.name, us: median(r.map((x) => x.cpu[i]!.us)) })),
      runs: r.map(({ rps, p50, p99 }) => ({ rps, p50, p99 }))
    }
  })
}
