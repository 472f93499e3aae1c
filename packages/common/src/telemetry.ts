// OpenTelemetry bootstrap with tracing: only the instrumentations Shortfeed needs (full
// auto-instrumentation costs most of a hot path's throughput), OTLP export only when an endpoint
// is configured. Without tracing, services start metrics alone (startMetrics in metrics.ts).
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { NodeSDK } from '@opentelemetry/sdk-node'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace'
import { createPrometheusReader } from './metrics.ts'
import { setActiveTelemetry, type Telemetry } from './telemetry-state.ts'

export { shutdownTelemetry, type Telemetry } from './telemetry-state.ts'

export interface TelemetryOptions {
  serviceName: string
  /** OTLP/HTTP base URL (e.g. http://otel-collector:4318). Without it nothing is exported. */
  otlpEndpoint?: string | undefined
  /** `http/protobuf` (default) or `http/json`, as OTEL_EXPORTER_OTLP_PROTOCOL says. */
  otlpProtocol?: string | undefined
  /** How often finished spans are sent (OTEL_BSP_SCHEDULE_DELAY), default 5 s. */
  exportDelayMs?: number | undefined
  /**
   * Push metrics over OTLP too (OTEL_METRICS_EXPORTER lists `otlp`, its default). Where
   * Prometheus scrapes every instance itself (compose), `prometheus` alone avoids a second copy.
   */
  otlpMetrics?: boolean | undefined
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[]
  /** Defaults to createInstrumentations(); pass the ones the module hooks were installed for. */
  instrumentations?: Instrumentation[]
}

export function createInstrumentations () {
  return [
    new HttpInstrumentation({
      // Probes and scrapes would drown the traces that matter.
      ignoreIncomingRequestHook: (req) => req.url?.startsWith('/health/') === true
    }),
    new UndiciInstrumentation(),
    new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (route) => route.url.startsWith('/health/') }),
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    new KafkaJsInstrumentation(),
    new RuntimeNodeInstrumentation({ monitoringPrecision: 50 })
  ]
}

export function startTelemetry (options: TelemetryOptions): Telemetry {
  const endpoint = options.otlpEndpoint?.replace(/\/$/, '')
  const spanProcessors = [...(options.spanProcessors ?? [])]
  if (endpoint) {
    const url = `${endpoint}/v1/traces`
    const exporter = options.otlpProtocol === 'http/json' ? new OTLPJsonTraceExporter({ url }) : new OTLPTraceExporter({ url })
    spanProcessors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.exportDelayMs ?? 5_000 }))
  }

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    instrumentations: options.instrumentations ?? createInstrumentations(),
    // Explicit lists: left empty, the SDK would fall back to exporting to localhost:4318.
    spanProcessors,
    logRecordProcessors: [],
    metricReaders: [
      createPrometheusReader(),
      ...(endpoint && options.otlpMetrics !== false
        ? [new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
            exportIntervalMillis: 10_000
          })]
        : [])
    ]
  })
  sdk.start()
  const telemetry: Telemetry = { shutdown: () => sdk.shutdown() }
  setActiveTelemetry(telemetry)
  return telemetry
}
