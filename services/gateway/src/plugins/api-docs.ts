// One public OpenAPI document at /docs/json, merged from each service's own (openapi.ts,
// refreshed in the background), with Swagger UI at /docs.
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createOpenApiAggregator } from '../openapi.ts'

export default fp(async function apiDocs (app: FastifyInstance, options: { sources: string[] }) {
  const docs = createOpenApiAggregator(options.sources)
  void docs.refresh()
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    transformSpecification: () => docs.document(),
    transformSpecificationClone: false
  })
  app.addHook('onClose', async () => { docs.close() })
}, { name: 'api-docs' })
