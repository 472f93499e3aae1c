// Starts the gateway: `node --import @shortfeed/common/register-telemetry src/server.ts`.
import { runService } from '@shortfeed/common'
import { buildApp } from './app.ts'
import { GatewayConfig } from './config.ts'

await runService({ service: 'gateway', schema: GatewayConfig, build: buildApp })
