// `pnpm --filter @shortfeed/notifier migrate [down]`: applies (or reverts one of) the notifier's
// migrations using DATABASE_URL, without starting the service.
import { loadConfig, migrateDatabase, postgresConfig } from '@shortfeed/common'
import { pino } from 'pino'
import { Type } from 'typebox'
import { MIGRATIONS_DIR } from './app.ts'

const config = loadConfig('notifier migrate', Type.Object({ DATABASE_URL: postgresConfig.DATABASE_URL }))
const direction = process.argv[2] === 'down' ? 'down' : 'up'
const applied = await migrateDatabase({ databaseUrl: config.DATABASE_URL, dir: MIGRATIONS_DIR, logger: pino(), direction })
process.stdout.write(applied.length === 0 ? 'nothing to migrate\n' : `${direction}: ${applied.join(', ')}\n`)
