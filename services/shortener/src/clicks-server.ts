// Starts the click aggregator (port 8085: health and metrics only):
// `node --import @shortfeed/common/register-telemetry src/clicks-server.ts`.
import { runService } from '@shortfeed/common'
import { buildClicksApp } from './clicks-app.ts'
import { ClicksConfig } from './config.ts'

await runService({ service: 'shortener-clicks', schema: ClicksConfig, build: buildClicksApp })
