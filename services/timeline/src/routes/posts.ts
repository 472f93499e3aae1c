// Creating and reading posts. A post and its post.created event are one transaction; the
// outbox relay takes the event to Kafka.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { idempotencyKeyOf, requireUser, withIdempotency } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import { PostNotFound, type Post } from '../plugins/posts.ts'
import { UserNotFound } from '../plugins/social-graph.ts'
import { PostBody, PostParams, PostResponse, ProblemResponse } from '../schemas/timeline.ts'
import { checkPostText } from '../text-policy.ts'

export default async function postRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const problems = { 400: ProblemResponse, 401: ProblemResponse, 404: ProblemResponse, 422: ProblemResponse }

  app.post('/api/v1/posts', {
    schema: { tags: ['posts'], summary: 'Post (1–280 characters)', body: PostBody, response: { 201: PostResponse, ...problems } }
  }, async (request, reply) => {
    const authorId = requireUser(request)
    const text = checkPostText(request.body.text)
    const author = await app.graph.findUser(authorId)
    if (!author) throw new UserNotFound(authorId)
    const key = idempotencyKeyOf(request.headers)
    const result = await withIdempotency<Post>(app.pg, { scope: authorId, key, body: request.body }, async (client) =>
      ({ status: 201, body: await app.posts.create(client, author, text) }))
    if (!result.replayed) await app.posts.remember(result.body)
    return reply.code(result.status).header('location', `/api/v1/posts/${result.body.id}`).send(result.body)
  })

  app.get('/api/v1/posts/:id', {
    schema: { tags: ['posts'], summary: 'One post', params: PostParams, response: { 200: PostResponse, ...problems } }
  }, async (request) => {
    const [post] = await app.posts.hydrate([request.params.id])
    if (!post) throw new PostNotFound(request.params.id)
    return post
  })
}
