// The telemetry started for this process, so graceful shutdown can flush it last. A module of
// its own, without OpenTelemetry imports: services import this on every start, while the SDK
// behind it (tracing, or metrics alone) is loaded only by the preload that needs it.
export interface Telemetry {
  shutdown: () => Promise<void>
}

let active: Telemetry | undefined

export function setActiveTelemetry (telemetry: Telemetry): void {
  active = telemetry
}

/**
 * The longest the last flush may take. Exporters retry an unreachable collector for up to 10 s
 * each; a shutdown must not spend its grace period on telemetry, which is best effort.
 */
export const TELEMETRY_SHUTDOWN_MS = 3_000

/** Flushes and stops the telemetry started for this process, if any (called last in graceful shutdown). */
export async function shutdownTelemetry (): Promise<void> {
  const telemetry = active
  active = undefined
  if (!telemetry) return
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, TELEMETRY_SHUTDOWN_MS).unref() })
  await Promise.race([telemetry.shutdown().catch(() => {}), deadline])
  clearTimeout(timer)
}
