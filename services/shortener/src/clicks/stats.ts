// A link's click analytics for a time range: the series per hour or day (zeros included, so a
// chart needs no gap-filling) and the top countries, referrers and devices, from click_stats.
import type pg from 'pg'
import type { ClickStats } from '../schemas/urls.ts'

export type Granularity = 'hour' | 'day'

const STEP_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 }
/** Bounds a series: 31 days of hours, a little over a year of days. */
export const MAX_POINTS = 800
const TOP = 10

/** The range aligned to whole hours or days (UTC): from rounds down, to rounds up. */
export function alignRange (from: Date, to: Date, granularity: Granularity): { from: Date, to: Date, points: number } {
  const step = STEP_MS[granularity]
  const start = Math.floor(from.getTime() / step) * step
  const end = Math.ceil(to.getTime() / step) * step
  return { from: new Date(start), to: new Date(end), points: (end - start) / step }
}

export async function readClickStats (
  pool: pg.Pool, code: string, range: { from: Date, to: Date, granularity: Granularity }
): Promise<ClickStats> {
  const { from, to, granularity } = range
  const [series, ranked] = await Promise.all([
    pool.query<{ at: Date, clicks: string }>(
      `SELECT date_trunc($4, hour, 'UTC') AS at, sum(clicks) AS clicks FROM click_stats
       WHERE code = $1 AND dimension = 'total' AND hour >= $2 AND hour < $3 GROUP BY 1`,
      [code, from, to, granularity]),
    pool.query<{ dimension: string, value: string, clicks: string }>(
      `SELECT dimension, value, sum(clicks) AS clicks FROM click_stats
       WHERE code = $1 AND dimension <> 'total' AND hour >= $2 AND hour < $3
       GROUP BY 1, 2 ORDER BY 3 DESC, 2`,
      [code, from, to])
  ])
  const byTime = new Map(series.rows.map((r) => [r.at.getTime(), Number(r.clicks)]))
  const points: ClickStats['series'] = []
  for (let t = from.getTime(); t < to.getTime(); t += STEP_MS[granularity]) {
    points.push({ at: new Date(t).toISOString(), clicks: byTime.get(t) ?? 0 })
  }
  const top = (dimension: string) => ranked.rows
    .filter((r) => r.dimension === dimension).slice(0, TOP)
    .map((r) => ({ value: r.value, clicks: Number(r.clicks) }))
  return {
    code,
    from: from.toISOString(),
    to: to.toISOString(),
    granularity,
    total: points.reduce((sum, p) => sum + p.clicks, 0),
    series: points,
    countries: top('country'),
    referrers: top('referrer'),
    devices: top('device')
  }
}
