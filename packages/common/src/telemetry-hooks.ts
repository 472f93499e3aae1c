// Installs the ESM hook that lets OpenTelemetry patch pg, ioredis, kafkajs and fastify when an
// ES module imports them. Only the modules the instrumentations name are wrapped: by default
// import-in-the-middle wraps every module the app loads, which costs memory and startup for
// nothing. On Node versions with synchronous in-thread hooks (24.11.1+, 22.22.3+) the hook
// runs on the main thread; otherwise it falls back to the loader thread, which holds a second
// V8 isolate (tens of MB).
import { register as registerLoader } from 'node:module'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs'

export function installModuleHooks (instrumentations: Instrumentation[]): void {
  const moduleNames = (i: Instrumentation): string[] =>
    (i as { getModuleDefinitions?: () => Array<{ name: string }> }).getModuleDefinitions?.().map((d) => d.name) ?? []
  const include = [...new Set(instrumentations.flatMap(moduleNames))]
  if (supportsSyncHooks()) registerSyncHooks({ include })
  else registerLoader('import-in-the-middle/hook.mjs', import.meta.url, { data: { include } })
}
