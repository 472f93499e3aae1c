// The whole system as real processes for the abuse tests: shortener, timeline API, fan-out
// worker, notifier and the gateway in front of them, each with its own database on the
// harness's Postgres, one Redis key prefix and the shared Kafka. Requests go to the gateway
// over real sockets, as a client's would.
import { freePort } from '@shortfeed/infra'
import { createTestDatabase, startServiceProcess, testServers, uniqueName } from '../harness.ts'
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
 * late answer is still read.
 */
const PATIENT_GATEWAY = { UPSTREAM_TIMEOUT_MS: '20000', REDIS_COMMAND_TIMEOUT_MS: '20000' }
const PATIENT_TIMELINE = { PASSWORD_HASH_MAX_WAIT_MS: '15000' }

export type ServiceName = 'shortener' | 'timeline' | 'timeline-fanout' | 'notifier' | 'gateway'
export type DatabaseName = 'shortener' | 'timeline' | 'notifier'

export interface AbuseStack {
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
  /** Receives each process's output, e.g. to check what it logs. */
  onOutput?: (service: ServiceName, text: string) => void
}

/**
 * Another gateway process in front of the same services, with its own environment (e.g. strict
 * rate limits) and its own rate-limit keys; resolves with its base URL.
 */
export async function startGateway (stack: AbuseStack, env: Record<string, string>, onOutput?: (text: string) => void): Promise<string> {
  return startServiceProcess({
    dir: 'gateway',
    env: {
      REDIS_URL: stack.redisUrl,
      REDIS_KEY_PREFIX: `${uniqueName('gw')}:`,
      INTERNAL_AUTH_SECRET,
      UPSTREAM_SHORTENER: stack.urls.shortener,
      UPSTREAM_TIMELINE: stack.urls.timeline,
      UPSTREAM_NOTIFIER: stack.urls.notifier,
      ...UNREACHABLE_LIMITS,
      ...PATIENT_GATEWAY,
      ...env
    },
    ...(onOutput ? { onOutput } : {})
  })
}

export async function startAbuseStack (options: AbuseStackOptions = {}): Promise<AbuseStack> {
  const servers = await testServers()
  const redisPrefix = `${uniqueName('abuse')}:`
  const gatewayPort = await freePort()
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`
  const shared = {
    LOG_LEVEL: options.logLevel ?? 'warn',
    REDIS_URL: servers.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    KAFKA_BROKERS: servers.kafkaBrokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    INTERNAL_AUTH_SECRET
  }
  const signingKey = newSigningKey()
  const [shortenerDb, timelineDb, notifierDb] = await Promise.all([createTestDatabase('abuse_short'), createTestDatabase('abuse_tl'), createTestDatabase('abuse_notif')])
  const start = (service: ServiceName, dir: string, entry: string, env: Record<string, string>, port?: number) => startServiceProcess({
    dir,
    entry,
    ...(port === undefined ? {} : { port }),
    env: { ...shared, SERVICE_NAME: service, ...env, ...options.env?.[service] },
    ...(options.onOutput ? { onOutput: (text: string) => { options.onOutput!(service, text) } } : {})
  })

  const [shortener, timeline] = await Promise.all([
    // The shortener's public base is this gateway: links back to it are loops.
    // A permutation key of its own: another stack's link with the same id then has another
    // code, so its clicks on the shared topic never count for this stack's links.
    start('shortener', 'shortener', 'src/server.ts', { DATABASE_URL: shortenerDb, PUBLIC_BASE_URL: gatewayUrl, CLICK_AGGREGATOR_GROUP: uniqueName('clicks'), CODE_PERMUTATION_KEY: uniqueName('codes') }),
    start('timeline', 'timeline', 'src/server.ts', { DATABASE_URL: timelineDb, JWT_PRIVATE_KEY: signingKey.pem, ...PATIENT_TIMELINE })
  ])
  const [fanout, notifier] = await Promise.all([
    start('timeline-fanout', 'timeline', 'src/fanout-server.ts', { DATABASE_URL: timelineDb, FANOUT_GROUP: uniqueName('fanout'), MIGRATE_ON_START: 'false' }),
    start('notifier', 'notifier', 'src/server.ts', { DATABASE_URL: notifierDb, USERS_API_URL: timeline, NOTIFIER_GROUP: uniqueName('notifier') })
  ])
  await start('gateway', 'gateway', 'src/server.ts', {
    UPSTREAM_SHORTENER: shortener,
    UPSTREAM_TIMELINE: timeline,
    UPSTREAM_NOTIFIER: notifier,
    ...UNREACHABLE_LIMITS,
    ...PATIENT_GATEWAY
  }, gatewayPort)

  const { keys: [jwk] } = await (await fetch(`${timeline}/.well-known/jwks.json`)).json() as { keys: Array<Record<string, unknown>> }
  return {
    signing: { key: signingKey, kid: String(jwk!['kid']), jwk: jwk! },
    gateway: gatewayUrl,
    urls: { shortener, timeline, 'timeline-fanout': fanout, notifier, gateway: gatewayUrl },
    databases: { shortener: shortenerDb, timeline: timelineDb, notifier: notifierDb },
    redisUrl: servers.redisUrl,
    redisPrefix
  }
}
