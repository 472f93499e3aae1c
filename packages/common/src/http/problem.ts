// RFC 9457 problem details for every error a service returns: validation errors list their
// fields, client errors keep their message, server errors hide theirs behind the request id.
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import createError from '@fastify/error'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { isDependencyUnavailable } from '../unavailable.ts'

export { isDependencyUnavailable }

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface FieldError {
  /** Where the field is: body, querystring, params or headers. */
  in: string
  /** JSON pointer to the field within that location, e.g. /url. */
  pointer: string
  message: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  code?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

/** The problem document as a response schema, for the OpenAPI documents of every service. */
export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  instance: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ in: Type.String(), pointer: Type.String(), message: Type.String() })))
}, { additionalProperties: true })

/** A problem type URI from an error code: SHORTENER_ALIAS_TAKEN → urn:shortfeed:problem:shortener-alias-taken. */
export function problemType (code: string | undefined): string {
  return code ? `urn:shortfeed:problem:${code.toLowerCase().replaceAll('_', '-')}` : 'about:blank'
}

interface AjvLikeError { instancePath: string, message?: string, keyword: string, params: Record<string, unknown> }

export function fieldErrors (context: string, errors: AjvLikeError[]): FieldError[] {
  return errors.map((e) => {
    let pointer = e.instancePath
    if (e.keyword === 'required') pointer = `${pointer}/${String(e.params['missingProperty'])}`
    if (e.keyword === 'additionalProperties') pointer = `${pointer}/${String(e.params['additionalProperty'])}`
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'required') message = 'is required'
    if (e.keyword === 'additionalProperties') message = 'is not allowed'
    return { in: context, pointer: pointer === '' ? '/' : pointer, message }
  })
}

/**
 * @fastify/error's createError for refusals that pass (503, 429, a gateway's 502/504): the
 * constructor takes the seconds to wait first, then the message's arguments, and the problem
 * answer carries them as Retry-After.
 *   const LookupUnavailable = createRetryableError('SHORTENER_UNAVAILABLE', 'Retry shortly', 503)
 *   throw new LookupUnavailable(5)
 */
export function createRetryableError (code: string, message: string, statusCode: number) {
  const Base = createError(code, message, statusCode)
  return class RetryableError extends Base {
    readonly retryAfterSeconds: number
    constructor (retryAfterSeconds: number, ...args: unknown[]) {
      super(...args)
      this.retryAfterSeconds = retryAfterSeconds
    }
  }
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem))
}

function instanceOf (request: FastifyRequest): string {
  const path = request.url.split('?')[0] ?? '/'
  return path.length > 512 ? `${path.slice(0, 512)}…` : path
}

export function toProblem (error: FastifyError & { retryAfterSeconds?: number }, request: FastifyRequest): Problem {
  if (error.validation) {
    const context = error.validationContext ?? 'request'
    const errors = fieldErrors(context, error.validation as AjvLikeError[])
    return {
      type: problemType('VALIDATION_FAILED'),
      title: 'Request validation failed',
      status: 400,
      detail: errors.map((e) => `${e.in}${e.pointer === '/' ? '' : e.pointer} ${e.message}`).join('; '),
      instance: instanceOf(request),
      code: 'VALIDATION_FAILED',
      errors
    }
  }
  if (isDependencyUnavailable(error)) {
    return {
      type: problemType('DEPENDENCY_UNAVAILABLE'),
      title: 'Service Unavailable',
      status: 503,
      detail: 'A dependency of this service is temporarily unavailable; retry shortly.',
      instance: instanceOf(request),
      code: 'DEPENDENCY_UNAVAILABLE'
    }
  }
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode <= 599 ? error.statusCode : 500
  const title = STATUS_CODES[status] ?? 'Error'
  // A 5xx is shown only when it was raised on purpose with its own code (a gateway's 502/504,
  // a 503 with Retry-After); anything else may carry internals and is hidden.
  const deliberate = error.code !== undefined &&
    /^[A-Z]+(_[A-Z]+)+$/.test(error.code) &&
    !error.code.startsWith('FST_') &&
    error.statusCode !== undefined
  if (status >= 500 && status !== 503 && !deliberate) {
    return {
      type: 'about:blank',
      title,
      status,
      detail: `An unexpected error occurred (request ${request.id}).`,
      instance: instanceOf(request)
    }
  }
  return {
    type: problemType(error.code),
    title,
    status,
    detail: error.message,
    instance: instanceOf(request),
    ...(error.code ? { code: error.code } : {})
  }
}

/**
 * The answer to a request Node's HTTP parser refuses (a header too large, a CR inside a header,
 * a space in the path): it never reaches Fastify, so it is written to the socket here, as a
 * problem document like every other refusal. Fastify's default writes a plain JSON error.
 */
export function answerClientError (err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const title = STATUS_CODES[status]!
  const parseError = (err.code ?? 'parse error').replace(/^HPE_/, '').toLowerCase().replaceAll('_', ' ')
  const detail = status === 408
    ? 'The request did not arrive in time.'
    : status === 431 ? 'The request headers are too large.' : `The request is not valid HTTP/1.1 (${parseError}).`
  const body = JSON.stringify({ type: 'about:blank', title, status, detail })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`
    )
  }
  socket.destroy(err)
}

export default fp(async function problemDetails (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError & { retryAfterSeconds?: number }, request, reply) => {
    const problem = toProblem(error, request)
    if (problem.status >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code: problem.code, status: problem.status }, problem.detail)
    }
    const retryAfter = error.retryAfterSeconds ?? (problem.status === 503 ? 5 : undefined)
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
    return sendProblem(reply, problem)
  })

  app.setNotFoundHandler((request, reply) => sendProblem(reply, {
    type: 'about:blank',
    title: 'Not Found',
    status: 404,
    detail: `No route for ${request.method} ${instanceOf(request)}`,
    instance: instanceOf(request)
  }))
}, { name: 'problem-details', fastify: '5.x' })
