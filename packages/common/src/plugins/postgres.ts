// Decorates the app with a pg pool (app.pg), migrates at start when asked, reports readiness,
// and closes the pool last on shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import { migrateDatabase } from '../migrations.ts'
import { createPostgresPool, pingPostgres } from '../postgres.ts'

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool
  }
}

export interface PostgresPluginOptions {
  config: {
    DATABASE_URL: string
    PG_POOL_MAX: number
    PG_CONNECT_TIMEOUT_MS: number
    PG_STATEMENT_TIMEOUT_MS: number
    MIGRATE_ON_START: boolean
  }
  applicationName: string
  /** The service's migrations folder; applied at start when MIGRATE_ON_START is true. */
  migrationsDir?: string
}

export default fp(async function postgres (app: FastifyInstance, options: PostgresPluginOptions) {
  const { config } = options
  if (options.migrationsDir && config.MIGRATE_ON_START) {
    await migrateDatabase({ databaseUrl: config.DATABASE_URL, dir: options.migrationsDir, logger: app.log })
  }
  const pool = createPostgresPool({
    connectionString: config.DATABASE_URL,
    applicationName: options.applicationName,
    max: config.PG_POOL_MAX,
    connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS
  })
  app.decorate('pg', pool)
  app.addReadinessCheck('postgres', () => pingPostgres(pool))
  app.addHook('onClose', async () => { await pool.end() })
}, { name: 'postgres', dependencies: ['health'] })
