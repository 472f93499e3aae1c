// `pnpm --filter @shortfeed/notifier migrate [down]`: applies (or reverts one of) the notifier's
// migrations using DATABASE_URL, without starting the service.
import { runMigrateCommand } from '@shortfeed/common'
import { MIGRATIONS_DIR } from './app.ts'

await runMigrateCommand('notifier', MIGRATIONS_DIR)
