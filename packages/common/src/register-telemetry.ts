// Preload for every service: `node --import @shortfeed/common/register-telemetry src/server.ts`.
// It must run before the app imports pg, ioredis, kafkajs or fastify so that the module hooks
// can patch them; settings come from the standard OTEL_* variables: OTEL_EXPORTER_OTLP_ENDPOINT
// turns tracing on, OTEL_SDK_DISABLED=true turns metrics off too.
if (process.env['OTEL_SDK_DISABLED'] !== 'true') {
  // Tracing only where traces go somewhere. Unsampled spans still cost ~40 % of a redirect's
  // CPU (context carried through every async hop, spans created and dropped; `node
  // bench/cpu.ts --env OTEL_SDK_DISABLED=true` shows it), and the tracing SDK 10–20 MB of memory,
  // so without a collector the services run uninstrumented, serve metrics alone, and correlate
  // logs by request id.
  const tracing = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined || process.env['OTEL_TRACES_SAMPLER'] !== undefined
  const serviceName = process.env['OTEL_SERVICE_NAME'] ?? process.env['SERVICE_NAME'] ?? 'shortfeed'
  if (tracing) {
    const { createInstrumentations, startTelemetry } = await import('./telemetry.ts')
    const { installModuleHooks } = await import('./telemetry-hooks.ts')
    const instrumentations = createInstrumentations()
    installModuleHooks(instrumentations)
    startTelemetry({
      serviceName,
      otlpEndpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'],
      otlpProtocol: process.env['OTEL_EXPORTER_OTLP_PROTOCOL'],
      exportDelayMs: process.env['OTEL_BSP_SCHEDULE_DELAY'] ? Number(process.env['OTEL_BSP_SCHEDULE_DELAY']) : undefined,
      otlpMetrics: (process.env['OTEL_METRICS_EXPORTER'] ?? 'otlp').split(',').map((e) => e.trim()).includes('otlp'),
      instrumentations
    })
  } else {
    const { startMetrics } = await import('./metrics.ts')
    startMetrics({ serviceName })
  }
  const { shutdownTelemetry } = await import('./telemetry-state.ts')
  // Graceful shutdown calls shutdownTelemetry last; this covers a process that simply ends.
  process.once('beforeExit', () => { void shutdownTelemetry() })
}
