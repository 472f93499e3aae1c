// @shortfeed/common: the skeleton every service stands on. Each export lives in a small module
// named for what it does; start reading at http/server.ts.
export * from './config.ts'
export * from './logger.ts'
export * from './retry.ts'
export * from './postgres.ts'
export * from './redis.ts'
export * from './migrations.ts'
export * from './kafka/envelope.ts'
export * from './kafka/events.ts'
export * from './kafka/client.ts'
export * from './kafka/producer.ts'
export * from './kafka/consumer.ts'
export * from './kafka/topics.ts'
export { UpstreamUnavailableError } from './unavailable.ts'
export {
  default as problemDetails,
  createRetryableError,
  ProblemSchema,
  sendProblem,
  toProblem,
  problemType,
  fieldErrors,
  isDependencyUnavailable,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  type FieldError
} from './http/problem.ts'
export { default as health, type ReadinessCheck, type HealthOptions } from './http/health.ts'
export {
  createServer,
  runService,
  type ServerOptions,
  type ServerConfig,
  type RunServiceOptions
} from './http/server.ts'
export { inNetworks, isInternalAddress, networkList, PRIVATE_NETWORKS } from './http/networks.ts'
export { default as postgresPlugin, type PostgresPluginOptions } from './plugins/postgres.ts'
export { default as redisPlugin, type RedisPluginOptions } from './plugins/redis.ts'
export { default as kafkaPlugin, type KafkaPluginOptions } from './plugins/kafka.ts'
export { shutdownTelemetry, type Telemetry } from './telemetry-state.ts'
export * from './metrics.ts'
export * from './idempotency.ts'
export * from './outbox.ts'
export { default as outboxRelayPlugin, type OutboxRelayPluginOptions } from './plugins/outbox-relay.ts'
export {
  default as identityPlugin,
  identityConfig,
  IdentityHeaders,
  signIdentity,
  verifyIdentity,
  requireUser,
  AuthenticationRequired,
  IdentityInvalid
} from './http/identity.ts'
export * from './http/pagination.ts'
export * from './http/ids.ts'
export * from './kafka/lag.ts'
export * from './kafka/replay.ts'
export * from './kafka/until-connected.ts'
