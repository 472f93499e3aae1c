// node --test global setup: starts the servers once per run and hands their URLs to every
// test file through the environment (test processes inherit it).
import { ServerEnv, startTestServers, type StartedServers } from './servers.ts'

let started: StartedServers | undefined

export async function globalSetup (): Promise<void> {
  const t0 = Date.now()
  started = await startTestServers()
  for (const [key, variable] of Object.entries(ServerEnv)) {
    process.env[variable] = started.servers[key as keyof typeof ServerEnv]
  }
  process.stderr.write(`test servers (${started.provider}, ${Date.now() - t0} ms): ` +
    `postgres ${started.servers.postgresUrl}, redis ${started.servers.redisUrl}, kafka ${started.servers.kafkaBrokers}\n`)
}

export async function globalTeardown (): Promise<void> {
  const t0 = Date.now()
  await started?.stop()
  process.stderr.write(`test servers stopped in ${Date.now() - t0} ms\n`)
}
