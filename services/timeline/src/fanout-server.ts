// Starts the fan-out worker (port 8084: health and metrics only):
// `node --import @shortfeed/common/register-telemetry src/fanout-server.ts`.
import { runService } from '@shortfeed/common'
import { FanoutConfig } from './config.ts'
import { buildFanoutApp } from './fanout-app.ts'

await runService({ service: 'timeline-fanout', schema: FanoutConfig, build: async (config) => (await buildFanoutApp(config)).app })
