// Starts the timeline API: `node --import @shortfeed/common/register-telemetry src/server.ts`.
import { runService } from '@shortfeed/common'
import { buildApp } from './app.ts'
import { TimelineConfig } from './config.ts'

await runService({ service: 'timeline', schema: TimelineConfig, build: buildApp })
