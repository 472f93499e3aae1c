// node --test global setup for the fault suite (pnpm test:faults): starts the one stack the
// fault files share before the first of them, and stops it after the last. The files run in
// this same process (--test-isolation=none), so they see the same stack.
import { sharedFaultStack, stopSharedFaultStack } from './fault-stack.ts'

export async function globalSetup (): Promise<void> {
  const t0 = Date.now()
  await sharedFaultStack()
  process.stdout.write(`[fault-stack] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
}

export async function globalTeardown (): Promise<void> {
  await stopSharedFaultStack()
}
