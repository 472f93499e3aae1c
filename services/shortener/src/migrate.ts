// `pnpm --filter @shortfeed/shortener migrate [down]`: applies (or reverts one of) the shortener's
// migrations using DATABASE_URL, without starting the service.
import { runMigrateCommand } from '@shortfeed/common'
import { MIGRATIONS_DIR } from './app.ts'

await runMigrateCommand('shortener', MIGRATIONS_DIR)
