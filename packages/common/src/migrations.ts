// Schema migrations with node-pg-migrate: plain SQL files in each service's migrations/ folder,
// applied under an advisory lock so that several instances starting at once migrate once.
import { runner } from 'node-pg-migrate'
import type { Logger } from 'pino'

export interface MigrateOptions {
  databaseUrl: string
  /** Folder holding the service's NNNN_name.sql files. */
  dir: string
  logger: Logger
  direction?: 'up' | 'down'
  /** How many to apply (default all up, one down). */
  count?: number
}

export async function migrateDatabase (options: MigrateOptions): Promise<string[]> {
  const log = options.logger.child({ component: 'migrations' })
  const direction = options.direction ?? 'up'
  const applied = await runner({
    databaseUrl: options.databaseUrl,
    dir: options.dir,
    direction,
    count: options.count ?? (direction === 'up' ? Infinity : 1),
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    logger: {
      debug: (msg) => { log.debug(msg) },
      info: (msg) => { log.debug(msg) },
      warn: (msg) => { log.warn(msg) },
      error: (msg) => { log.error(msg) }
    }
  })
  const names = applied.map((m) => m.name)
  if (names.length > 0) log.info({ migrations: names, direction }, 'migrations applied')
  return names
}
