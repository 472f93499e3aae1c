// Starts the notifier: `node --import @shortfeed/common/register-telemetry src/server.ts`.
import { runService } from '@shortfeed/common'
import { buildApp } from './app.ts'
import { NotifierConfig } from './config.ts'

await runService({ service: 'notifier', schema: NotifierConfig, build: buildApp })
