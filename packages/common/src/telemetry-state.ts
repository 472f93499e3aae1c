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

/** Flushes and stops the telemetry started for this process, if any (called last in graceful shutdown). */
export async function shutdownTelemetry (): Promise<void> {
  const telemetry = active
  active = undefined
  await telemetry?.shutdown()
}
