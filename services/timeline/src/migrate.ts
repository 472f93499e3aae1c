// `pnpm --filter @shortfeed/timeline migrate [down]`: applies (or reverts one of) the timeline's
// migrations using DATABASE_URL, without starting the service.
import { runMigrateCommand } from '@shortfeed/common'
import { MIGRATIONS_DIR } from './app.ts'

await runMigrateCommand('timeline', MIGRATIONS_DIR)
