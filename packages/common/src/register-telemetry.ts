// Preload for every service: `node --import @shortfeed/common/register-telemetry src/server.ts`.
// It must run before the app imports pg, ioredis, kafkajs or fastify so that the module hooks
// can patch them; settings come from the standard OTEL_* variables.
if (process.env['OTEL_SDK_DISABLED'] !== 'true') {
  const { createInstrumentations, startTelemetry, shutdownTelemetry } = await import('./telemetry.ts')
  const { installModuleHooks } = await import('./telemetry-hooks.ts')
  const instrumentations = createInstrumentations()
  installModuleHooks(instrumentations)
  startTelemetry({
    serviceName: process.env['OTEL_SERVICE_NAME'] ?? process.env['SERVICE_NAME'] ?? 'shortfeed',
    otlpEndpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'],
    otlpProtocol: process.env['OTEL_EXPORTER_OTLP_PROTOCOL'],
    exportDelayMs: process.env['OTEL_BSP_SCHEDULE_DELAY'] ? Number(process.env['OTEL_BSP_SCHEDULE_DELAY']) : undefined,
    instrumentations
  })
  // Graceful shutdown calls shutdownTelemetry last; this covers a process that simply ends.
  process.once('beforeExit', () => { void shutdownTelemetry() })
}
