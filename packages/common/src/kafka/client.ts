// kafkajs behind one small module, so that replacing the client is one file's work.
import { Kafka, logLevel, type logCreator, type RetryOptions } from 'kafkajs'
import type { FastifyBaseLogger as Logger } from 'fastify'

export interface KafkaOptions {
  clientId: string
  /** Comma-separated host:port list, as KAFKA_BROKERS holds it. */
  brokers: string
  logger?: Logger
  /**
   * How long to keep trying before a call fails. The default rides out a broker restart; a
   * best-effort stream (clicks) wants to give up within seconds instead.
   */
  retry?: RetryOptions
  connectionTimeoutMs?: number
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug'
}

function pinoLogCreator (logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' })
  return () => ({ level, log }) => {
    const { message, ...extra } = log
    child[levels[level] ?? 'info'](extra, message)
  }
}

/** The client services hold (app.kafka): they name its type from here, never import kafkajs. */
export type KafkaClient = Kafka

export function createKafka (options: KafkaOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(',').map((b) => b.trim()),
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: 30_000,
    retry: options.retry ?? { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
    logLevel: logLevel.WARN,
    ...(options.logger ? { logCreator: pinoLogCreator(options.logger) } : {})
  })
}
