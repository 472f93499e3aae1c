// Child server processes: spawned in their own process group (so a terminal's Ctrl-C reaches
// only the orchestrator, which stops them in order), output kept in a log file for error
// messages, and killed when this process exits whatever the reason.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'

export interface ServerProcess {
  name: string
  pid: number
  logFile: string
  /** Resolves once the process has exited. */
  exited: Promise<number | null>
  /** Politely (signal), then firmly (SIGKILL after the grace period). */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>
  hasExited: () => boolean
  /**
   * Sends a signal to the server and every process under it: SIGSTOP/SIGCONT freeze and thaw
   * it, SIGKILL kills it mid-work. The children matter for Postgres, which serves each
   * connection from a child process in a session of its own (so the process group is not
   * enough).
   */
  signalGroup: (signal: NodeJS.Signals) => void
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook () {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of running) {
      try { process.kill(child.pid!, 'SIGKILL') } catch {}
    }
  })
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  logFile: string
}

export function spawnServer (name: string, command: string, args: string[], options: SpawnOptions): ServerProcess {
  installExitHook()
  const out = openSync(options.logFile, 'a')
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out, out],
    detached: true
  })
  closeSync(out)
  // The servers must not keep a finished test file alive; the exit hook still kills them.
  child.unref()
  running.add(child)
  let exitedFlag = false
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { exitedFlag = true; running.delete(child); resolve(code) })
    child.once('error', () => { exitedFlag = true; running.delete(child); resolve(null) })
  })
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  return {
    name,
    pid: child.pid,
    logFile: options.logFile,
    exited,
    hasExited: () => exitedFlag,
    signalGroup (signal) {
      if (exitedFlag) return
      // The parent first: a frozen Postgres cannot start new children meanwhile.
      for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) {
        try { process.kill(pid, signal) } catch {}
      }
    },
    async stop (signal = 'SIGTERM', graceMs = 10_000) {
      if (exitedFlag) return
      try { process.kill(child.pid!, signal) } catch {}
      // A frozen server cannot act on the signal until it runs again.
      for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) {
        try { process.kill(pid, 'SIGCONT') } catch {}
      }
      const grace = new AbortController()
      const timedOut = await Promise.race([
        exited.then(() => false),
        delay(graceMs, true, { signal: grace.signal }).catch(() => false)
      ])
      grace.abort()
      if (timedOut) {
        try { process.kill(child.pid!, 'SIGKILL') } catch {}
        await exited
      }
    }
  }
}

/** Every process below `pid`, from /proc (Linux): children, their children, and so on. */
export function descendantsOf (pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of /proc/<pid>/stat, after the command in parentheses, is the parent's pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {}
  }
  const found: number[] = []
  for (let queue = [pid]; queue.length > 0;) {
    const children = parents.get(queue.shift()!) ?? []
    found.push(...children)
    queue.push(...children)
  }
  return found
}

/** The last lines of a server's log, for error messages that show why it did not start. */
export function logTail (logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Polls `probe` until it resolves, the process dies, or the deadline passes. */
export async function waitUntilReady (server: ServerProcess, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(`${server.name} exited during start-up. Its log (${server.logFile}):\n${logTail(server.logFile)}`)
    }
    try {
      await probe()
      return
    } catch (err) {
      lastError = err
      await delay(200)
    }
  }
  throw new Error(
    `${server.name} not ready after ${timeoutMs} ms (${(lastError as Error)?.message}). ` +
    `Its log (${server.logFile}):\n${logTail(server.logFile)}`
  )
}
