// Metrics through the OpenTelemetry API. The SDK exports them over OTLP when a collector is
// configured and always keeps a Prometheus reader, so GET /metrics works natively too.
import { metrics, type Meter } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'

let prometheus: PrometheusExporter | undefined

/** The pull reader behind GET /metrics (registered by startTelemetry). */
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
