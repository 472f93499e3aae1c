// Metrics through the OpenTelemetry API. The SDK exports them over OTLP when a collector is
// configured and always keeps a Prometheus reader, so GET /metrics works natively too.
import { metrics, type Meter } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
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
  const telemetry: Telemetry = { shutdown: () => provider.shutdown() }
  setActiveTelemetry(telemetry)
  return telemetry
}
