// The whole system as real processes for the abuse tests, started by the stack starter
// (`./run stack`'s, infra/stack) from the services' manifests: every process the system has, each
// service with its own databases on the harness's Postgres, one Redis key prefix and the shared
// Kafka with consumer groups of its own. Requests go to the gateway over real sockets, as a
// client's would.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { startStack, type Stack } from '@shortfeed/infra/stack'
import { testServers, uniqueName } from '../harness.ts'
import { newSigningKey, type SigningKey } from './tokens.ts'

export const INTERNAL_AUTH_SECRET = 'abuse-internal-auth-secret-0123456789'

/** Limits the limiter still checks on every request but never reaches: abuse tests must reach the services. */
export const UNREACHABLE_LIMITS = { RATE_LIMIT_REDIRECT: '1000000/1', RATE_LIMIT_READ: '1000000/1', RATE_LIMIT_WRITE: '1000000/1', RATE_LIMIT_LOGIN: '1000000/1' }

/**
 * Time budgets these tests do not check (resilience.test.ts and the fault matrix do): four test
 * files share two cores with every stack, and a sign-in queued behind scrypt hashes must get its
 * late 401, not the gateway's 504 or the timeline's busy 503; a rate-limit check must wait for
 * Redis rather than fail open to the local limiter, which would let a request past a budget the
 * test counts (under stress-ng, 5 s was seen to run out). All stay under raw-http.ts' 45 s, so a
 * late answer is still read. Load shedding is off: a loop stalled by a loaded machine would shed
 * requests these tests expect answered (the gateway's load-shedding test covers it).
 */
const PATIENT_GATEWAY = { UPSTREAM_TIMEOUT_MS: '20000', REDIS_COMMAND_TIMEOUT_MS: '20000', MAX_EVENT_LOOP_DELAY_MS: '0' }
const PATIENT_TIMELINE = { PASSWORD_HASH_MAX_WAIT_MS: '15000' }

export type ServiceName = 'shortener' | 'shortener-clicks' | 'timeline' | 'timeline-fanout' | 'notifier' | 'gateway'
export type DatabaseName = 'shortener' | 'timeline' | 'notifier'

export interface AbuseStack {
  /** The stack itself: its processes (to restart or inspect) and `launch` for one more. */
  stack: Stack
  /** Base URL of the gateway: the only door the tests knock on, except to check health. */
  gateway: string
  /** Base URL of every process (health checks, direct calls that must be refused). */
  urls: Record<ServiceName, string>
  /** Each service's database URL, to check what was (not) written. */
  databases: Record<DatabaseName, string>
  redisUrl: string
  /** Every Redis key of this stack starts with it. */
  redisPrefix: string
  /** The key the timeline signs tokens with, its kid and public JWK: to forge tokens right in all but one way. */
  signing: { key: SigningKey, kid: string, jwk: Record<string, unknown> }
}

export interface AbuseStackOptions {
  /** Environment per process on top of the defaults (e.g. the gateway's limits). */
  env?: Partial<Record<ServiceName, Record<string, string>>>
  /** Every process's LOG_LEVEL (default warn). */
  logLevel?: string
}

/**
 * Another gateway process in front of the same services, with its own environment (e.g. strict
 * rate limits) and its own rate-limit keys; resolves with its base URL.
 */
export async function startGateway (stack: AbuseStack, env: Record<string, string>): Promise<string> {
  const gateway = await stack.stack.launch('gateway', { REDIS_KEY_PREFIX: `${uniqueName('gw')}:`, ...env })
  return gateway.url
}

/** Everything a process of the stack has written so far (its log file). */
export function outputOf (stack: AbuseStack, service: ServiceName): string {
  const started = stack.stack.processes.find((p) => p.name === service)
  if (!started) throw new Error(`no process ${service}`)
  return readFileSync(started.process.logFile, 'utf8')
}

export async function startAbuseStack (options: AbuseStackOptions = {}): Promise<AbuseStack> {
  const servers = await testServers()
  const redisPrefix = `${uniqueName('abuse')}:`
  const signingKey = newSigningKey()
  const databasePrefix = `${uniqueName('abuse')}_`
  const stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'shortfeed-abuse-')),
    sources: true,
    anyPorts: true,
    given: { postgresUrl: servers.postgresUrl, redisUrl: servers.redisUrl, kafkaBrokers: servers.kafkaBrokers },
    databasePrefix,
    env: {
      LOG_LEVEL: options.logLevel ?? 'warn',
      REDIS_KEY_PREFIX: redisPrefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      INTERNAL_AUTH_SECRET,
      // Consumer groups of this stack's own on the shared topics, and a permutation key of its
      // own: another stack's link with the same id has another code, so its clicks never count
      // for this stack's links.
      CLICK_AGGREGATOR_GROUP: uniqueName('clicks'),
      FANOUT_GROUP: uniqueName('fanout'),
      NOTIFIER_GROUP: uniqueName('notifier'),
      CODE_PERMUTATION_KEY: uniqueName('codes')
    },
    processEnv: {
      ...options.env,
      timeline: { JWT_PRIVATE_KEY: signingKey.pem, ...PATIENT_TIMELINE, ...options.env?.timeline },
      gateway: { ...UNREACHABLE_LIMITS, ...PATIENT_GATEWAY, ...options.env?.gateway }
    }
  })
  after(() => stack.stop())
  const urls = Object.fromEntries(stack.processes.map((p) => [p.name, p.url])) as Record<ServiceName, string>
  const database = (name: DatabaseName) => new URL(`/${databasePrefix}${name}`, servers.postgresUrl).toString()

  const { keys: [jwk] } = await (await fetch(`${urls.timeline}/.well-known/jwks.json`)).json() as { keys: Array<Record<string, unknown>> }
  return {
    stack,
    signing: { key: signingKey, kid: String(jwk!['kid']), jwk: jwk! },
    gateway: urls.gateway,
    urls,
    databases: { shortener: database('shortener'), timeline: database('timeline'), notifier: database('notifier') },
    redisUrl: servers.redisUrl,
    redisPrefix
  }
}
