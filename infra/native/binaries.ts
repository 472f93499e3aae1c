// Finding the server binaries, with an error that says what to install when one is missing.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError'
}

export function which (command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, command)
    if (dir && existsSync(candidate)) return candidate
  }
  return undefined
}

export function requireBinary (command: string, hint: string): string {
  const found = which(command)
  if (!found) throw new MissingBinaryError(`${command} not found on PATH. ${hint}`)
  return found
}

/** PostgreSQL's server binaries: PG_BIN_DIR, then Debian's /usr/lib/postgresql/<newest>/bin, then PATH. */
export function postgresBinDir (): string {
  const fromEnv = process.env['PG_BIN_DIR']
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => existsSync(join(debian, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(debian, versions[0], 'bin')
  }
  const initdb = which('initdb')
  if (initdb) return join(initdb, '..')
  throw new MissingBinaryError(
    'PostgreSQL server binaries (initdb, postgres) not found. ' +
    'Install them (Debian: apt-get install postgresql), set PG_BIN_DIR, or give TEST_POSTGRES_URL.'
  )
}

export function userIds (user: string): { uid: number, gid: number } | undefined {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim())
    }
  } catch {
    return undefined
  }
}
