// @shortfeed/infra: real Postgres, Redis and Kafka on loopback without Docker.
export * from './binaries.ts'
export * from './ports.ts'
export * from './process.ts'
export * from './postgres.ts'
export * from './redis.ts'
export * from './kafka.ts'
