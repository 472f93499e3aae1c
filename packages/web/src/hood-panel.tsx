// "Under the hood": for each call the UI made, what happened inside, as the API reported it.
import { useEffect, useState } from 'preact/hooks'
import { hood, type HoodRecord } from './api.ts'

/** A trace id, linked to the tracing UI when there is one. */
function TraceId ({ traceId, traceUiUrl }: { traceId: string, traceUiUrl: string | null }) {
  if (!traceUiUrl) return <code>{traceId}</code>
  return <a href={`${traceUiUrl}/trace/${traceId}`} target='_blank' rel='noreferrer'><code>{traceId.slice(0, 16)}…</code></a>
}

export function HoodPanel ({ traceUiUrl }: { traceUiUrl: string | null }) {
  const [records, setRecords] = useState<readonly HoodRecord[]>([])
  useEffect(() => hood.subscribe(setRecords), [])
  return (
    <aside class='hood' aria-labelledby='hood-title'>
      <h2 id='hood-title'>Under the hood</h2>
      <p class='hint'>
        Each request this page made: its trace, the rate-limit budget left, how a redirect was looked up,
        and where timeline items came from.
      </p>
      {records.length === 0 && <p>Nothing yet.</p>}
      <ol class='hood-list'>
        {records.map((r) => (
          <li key={r.id} data-testid='hood-record'>
            <p class='hood-action'><strong>{r.action}</strong> <span class={r.status >= 400 ? 'status bad' : 'status'}>{r.status}</span></p>
            <p class='hood-path'><code>{r.method} {r.path}</code></p>
            <dl>
              <dt>trace</dt>
              <dd data-testid='hood-trace' data-trace-id={r.traceId ?? undefined}>{r.traceId
                ? <TraceId traceId={r.traceId} traceUiUrl={traceUiUrl} />
                : 'not traced (no collector)'}
              </dd>
              {r.rateLimit && (
                <>
                  <dt>rate limit</dt>
                  <dd data-testid='hood-rate-limit'>
                    {r.rateLimit.remaining} of {r.rateLimit.limit} left
                    ({r.rateLimit.policy}, full again in {r.rateLimit.resetSeconds} s)
                  </dd>
                </>
              )}
              {r.cache && <><dt>redirect</dt><dd data-testid='hood-cache'>{r.cache}</dd></>}
              {r.sources && (
                <>
                  <dt>timeline</dt>
                  <dd data-testid='hood-sources'>{r.sources.push} pushed at write time, {r.sources.pull} pulled at read time</dd>
                </>
              )}
            </dl>
          </li>
        ))}
      </ol>
    </aside>
  )
}
