// A throwaway PostgreSQL cluster: initdb into a directory, postgres on a loopback port with
// durability off (tests and the local stack trade crash safety for speed) unless asked for.
import { execFile } from 'node:child_process'
import { chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { MissingBinaryError, postgresBinDir, requireBinary, userIds } from './binaries.ts'
import { spawnServer, waitUntilReady, type ServerProcess } from './process.ts'

const run = promisify(execFile)

export interface NativePostgres {
  /** Superuser URL of the `postgres` database. */
  url: string
  port: number
  process: ServerProcess
  stop: () => Promise<void>
}

export interface PostgresStartOptions {
  /** Data lives in <dir>/pgdata; an existing cluster there is reused. */
  dir: string
  port: number
  /**
   * Keep synchronous_commit on, so a commit that was acknowledged survives the server being
   * killed (fault tests kill it). Off by default: a commit is then acknowledged before its WAL
   * leaves shared memory, and a killed server forgets the last fraction of a second of them.
   * fsync stays off either way; it only matters if the machine itself goes down.
   */
  durableCommits?: boolean
}

/** initdb refuses to run as root; as root we run the server binaries as the `postgres` user. */
function asServerUser (dir: string): string[] {
  if (process.getuid?.() !== 0) return []
  const ids = userIds('postgres')
  if (!ids) {
    throw new MissingBinaryError(
      'running as root needs a `postgres` system user to own the cluster (Debian\'s postgresql package creates it)'
    )
  }
  chownSync(dir, ids.uid, ids.gid)
  return [requireBinary('setpriv', 'It is part of util-linux.'), `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--init-groups', '--']
}

export async function startNativePostgres (options: PostgresStartOptions): Promise<NativePostgres> {
  const bin = postgresBinDir()
  const dataDir = join(options.dir, 'pgdata')
  mkdirSync(options.dir, { recursive: true })
  const prefix = asServerUser(options.dir)
  const exec = (command: string, args: string[]) => {
    const argv = [...prefix, join(bin, command), ...args]
    return run(argv[0]!, argv.slice(1), { cwd: options.dir })
  }
  if (prefix.length > 0) {
    await run(prefix[0]!, [...prefix.slice(1), 'test', '-w', options.dir]).catch(() => {
      throw new Error(`the postgres user cannot write ${options.dir}: its parent directories must be traversable (chmod 755)`)
    })
  }

  try {
    await exec('pg_controldata', [dataDir])
  } catch {
    try {
      await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
    } catch (err) {
      throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`)
    }
  }

  const logFile = join(options.dir, 'postgres.log')
  writeFileSync(logFile, '')
  if (prefix.length > 0) {
    const ids = userIds('postgres')!
    chownSync(logFile, ids.uid, ids.gid)
  }
  const argv = [...prefix, join(bin, 'postgres'),
    '-D', dataDir,
    '-p', String(options.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${options.dir}`,
    '-c', 'fsync=off',
    '-c', `synchronous_commit=${options.durableCommits ? 'on' : 'off'}`,
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=400',
    '-c', 'shared_buffers=128MB'
  ]
  const server = spawnServer('postgres', argv[0]!, argv.slice(1), { logFile, cwd: options.dir })
  const url = `postgres://postgres@127.0.0.1:${options.port}/postgres`
  await waitUntilReady(server, async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } finally {
      await client.end().catch(() => {})
    }
  }, 60_000)
  return {
    url,
    port: options.port,
    process: server,
    // SIGINT is postgres' "fast" shutdown: sessions are ended, nothing waits for clients.
    stop: () => server.stop('SIGINT', 15_000)
  }
}

/** Creates a database if it does not exist; returns its URL. */
export async function ensureDatabase (adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${name}`)
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
        // Two callers racing: the loser's duplicate_database is success.
        if (err.code !== '42P04') throw err
      })
    }
  } finally {
    await client.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}
