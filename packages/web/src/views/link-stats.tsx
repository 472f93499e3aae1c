// A link's page (#/links/{code}): its clicks per hour over the last day (or per day over the
// last month) as a bar chart, and where they came from — countries, referrers, devices. It
// asks again every few seconds while the page is visible, so clicks show up as they arrive.
import { useEffect, useState } from 'preact/hooks'
import { call, type ClickStats } from '../api.ts'
import { ErrorMessage } from '../components/error-message.tsx'

const REFRESH_MS = 3_000
const RANGES = { hour: { label: 'Last 24 hours', ms: 24 * 3_600_000 }, day: { label: 'Last 30 days', ms: 30 * 86_400_000 } } as const
type Granularity = keyof typeof RANGES

const CHART_HEIGHT = 120

function BarChart ({ stats }: { stats: ClickStats }) {
  const highest = Math.max(1, ...stats.series.map((p) => p.clicks))
  const width = stats.series.length * 10
  const unit = stats.granularity === 'hour' ? 'hour' : 'day'
  const label = (at: string) => stats.granularity === 'hour' ? `${at.slice(5, 10)} ${at.slice(11, 16)} UTC` : at.slice(0, 10)
  return (
    <figure class='chart'>
      <svg
        viewBox={`0 0 ${width} ${CHART_HEIGHT}`} preserveAspectRatio='none' role='img' data-testid='stats-chart'
        aria-label={`Clicks per ${unit}: ${stats.total} in all, at most ${highest} in one ${unit}`}
      >
        {stats.series.map((p, i) => {
          const height = (p.clicks / highest) * (CHART_HEIGHT - 4)
          return (
            <rect key={p.at} x={i * 10 + 1} y={CHART_HEIGHT - height} width={8} height={height} class='bar' data-clicks={p.clicks}>
              <title>{`${label(p.at)}: ${p.clicks}`}</title>
            </rect>
          )
        })}
      </svg>
      <figcaption class='hint'>
        {label(stats.series[0]?.at ?? stats.from)} → {label(stats.series.at(-1)?.at ?? stats.to)}, one bar per {unit}
      </figcaption>
    </figure>
  )
}

function TopList ({ title, column, rows, testId }: { title: string, column: string, rows: ClickStats['countries'], testId: string }) {
  return (
    <table data-testid={testId}>
      <caption>{title}</caption>
      <thead><tr><th scope='col'>{column}</th><th scope='col'>Clicks</th></tr></thead>
      <tbody>
        {rows.length === 0 && <tr><td colSpan={2}>None yet</td></tr>}
        {rows.map((r) => <tr key={r.value}><td>{r.value}</td><td>{r.clicks}</td></tr>)}
      </tbody>
    </table>
  )
}

export function LinkStatsView ({ code }: { code: string }) {
  const [granularity, setGranularity] = useState<Granularity>('hour')
  const [stats, setStats] = useState<ClickStats | null>(null)
  const [error, setError] = useState<unknown>(null)

  useEffect(() => {
    let stopped = false
    async function load (action: string) {
      const to = new Date()
      const from = new Date(to.getTime() - RANGES[granularity].ms)
      const query = new URLSearchParams({ granularity, from: from.toISOString(), to: to.toISOString() })
      try {
        const next = await call<ClickStats>('GET', `/api/v1/urls/${code}/stats?${query.toString()}`, { action })
        if (!stopped) { setStats(next); setError(null) }
      } catch (err) {
        if (!stopped) setError(err)
      }
    }
    void load(`Load the stats of ${code}`)
    const timer = setInterval(() => { if (document.visibilityState === 'visible') void load(`Refresh the stats of ${code}`) }, REFRESH_MS)
    return () => { stopped = true; clearInterval(timer) }
  }, [code, granularity])

  return (
    <section class='card' aria-labelledby='stats-title'>
      <p><a href='#/links'>← My links</a></p>
      <h1 id='stats-title'>Clicks on {code}</h1>
      <div class='row' role='group' aria-label='Range'>
        {(Object.keys(RANGES) as Granularity[]).map((g) => (
          <button
            type='button' key={g} class={g === granularity ? '' : 'secondary'} aria-pressed={g === granularity}
            onClick={() => { setGranularity(g) }}
          >
            {RANGES[g].label}
          </button>
        ))}
      </div>
      <ErrorMessage error={error} />
      {stats === null && !error && <p>Loading…</p>}
      {stats && (
        <>
          <p aria-live='polite'>
            <strong data-testid='stats-total'>{stats.total}</strong> clicks
            ({RANGES[granularity].label.toLowerCase()}; refreshed every {REFRESH_MS / 1000} s)
          </p>
          <BarChart stats={stats} />
          <div class='tops'>
            <TopList title='Top countries' column='Country' rows={stats.countries} testId='stats-countries' />
            <TopList title='Top referrers' column='Referrer' rows={stats.referrers} testId='stats-referrers' />
            <TopList title='Top devices' column='Device' rows={stats.devices} testId='stats-devices' />
          </div>
        </>
      )}
    </section>
  )
}
