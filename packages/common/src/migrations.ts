// Schema migrations with node-pg-migrate: plain SQL files in each service's migrations/ folder,
// applied under an advisory lock so that several instances starting at once migrate once.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyBaseLogger as Logger } from 'fastify'
import { pino } from 'pino'
import { Type } from 'typebox'
import { loadConfig, postgresConfig } from './config.ts'

export interface MigrateOptions {
  databaseUrl: string
  /** Folder holding the service's NNNN_name.sql files. */
  dir: string
  logger: Logger
  direction?: 'up' | 'down'
  /** How many to apply (default all up, one down). */
  count?: number
}

/**
 * The `migrations/` folder of the package a module belongs to (pass its `import.meta.url`):
 * found from the nearest package.json up, so it is the same folder whether the module runs
 * from `src/` or compiled in `dist/src/`.
 */
export function migrationsDirOf (moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`)
    dir = parent
  }
  return join(dir, 'migrations')
}

export async function migrateDatabase (options: MigrateOptions): Promise<string[]> {
  const log = options.logger.child({ component: 'migrations' })
  const direction = options.direction ?? 'up'
  // Loaded on demand: services that never migrate (the gateway) need not hold it in memory.
  const { runner } = await import('node-pg-migrate')
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

/**
 * A service's `migrate` script: applies its migrations to DATABASE_URL (or reverts the last
 * one with `down` as the first argument) without starting the service.
 */
export async function runMigrateCommand (service: string, dir: string, argv = process.argv.slice(2)): Promise<void> {
  const config = loadConfig(`${service} migrate`, Type.Object({ DATABASE_URL: postgresConfig.DATABASE_URL }))
  const direction = argv[0] === 'down' ? 'down' : 'up'
  const applied = await migrateDatabase({ databaseUrl: config.DATABASE_URL, dir, logger: pino(), direction })
  process.stdout.write(applied.length === 0 ? 'nothing to migrate\n' : `${direction}: ${applied.join(', ')}\n`)
}
