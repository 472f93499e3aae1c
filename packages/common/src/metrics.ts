// Metrics through the OpenTelemetry API. The SDK exports them over OTLP when a collector is
// configured and always keeps a Prometheus reader, so GET /metrics works natively too.
import { metrics, type Meter } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import fp from 'fastify-plugin'
import { setActiveTelemetry, type Telemetry } from './telemetry-state.ts'

let prometheus: PrometheusExporter | undefined

/** The pull reader behind GET /metrics (registered by startTelemetry or startMetrics). */
export function createPrometheusReader (): PrometheusExporter {
  prometheus = new PrometheusExporter({ preventServerStart: true })
  return prometheus
}

export function prometheusExporter (): PrometheusExporter | undefined {
  return prometheus
}

/** Request duration buckets, in seconds: from a cached redirect (~1 ms) to a gateway timeout. */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * service_request_duration (seconds) by method, route and status code: RED for every service,
 * with or without tracing (the HTTP instrumentation's own http_server_request_duration exists
 * only where tracing is on).
 */
export function requestDurationHistogram () {
  return metrics.getMeter('shortfeed.http').createHistogram('service_request_duration', {
    description: 'Requests served, by method, route pattern and status code (RED: rate, errors, duration)',
    unit: 's',
    advice: { explicitBucketBoundaries: REQUEST_DURATION_BUCKETS }
  })
}

/**
 * Node's own health as metrics: event-loop delay and utilisation, heap by space, GC time
 * (OpenTelemetry's runtime instrumentation; perf_hooks sampling, no patching).
 */
export function startRuntimeMetrics (): void {
  registerInstrumentations({ instrumentations: [new RuntimeNodeInstrumentation({ monitoringPrecision: 50 })] })
}

/**
 * The plugin that makes a service's instruments as its app is built and decorates the app with
 * them. Made at import instead, they would bind to whatever meter provider was global then:
 * OpenTelemetry keeps an instrument made before telemetry starts a no-op for good.
 */
export function instrumentsPlugin (name: string, decoration: string, create: () => object) {
  return fp(async (app) => {
    const instruments: object = create()
    app.decorate(decoration, instruments)
  }, { name })
}

/** A service's meter; instruments are no-ops when telemetry is not started (unit tests). */
export function serviceMeter (service: string): Meter {
  return metrics.getMeter(`shortfeed.${service}`)
}

/**
 * Metrics without tracing: a meter provider with the Prometheus reader and nothing else. The
 * full SDK (NodeSDK, its exporters and protobuf) adds 10–20 MB to every process for tracing
 * that has nowhere to go when no collector is configured.
 */
export function startMetrics (options: { serviceName: string }): Telemetry {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [createPrometheusReader()]
  })
  metrics.setGlobalMeterProvider(provider)
  startRuntimeMetrics()
  const telemetry: Telemetry = { shutdown: () => provider.shutdown() }
  setActiveTelemetry(telemetry)
  return telemetry
}
