// Starts the shortener: `node --import @shortfeed/common/register-telemetry src/server.ts`.
import { runService } from '@shortfeed/common'
import { buildApp } from './app.ts'
import { ShortenerConfig } from './config.ts'

await runService({ service: 'shortener', schema: ShortenerConfig, build: buildApp })
