// Links in Postgres: create (generated code or alias), read, list by owner, soft delete.
import createError from '@fastify/error'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import { encodeBase62 } from '../codes/base62.ts'
import { createIdAllocator } from '../codes/id-allocator.ts'
import { createPermutation } from '../codes/permutation.ts'

export const AliasTaken = createError('SHORTENER_ALIAS_TAKEN', 'The alias "%s" is already taken', 409)

export interface Link {
  id: string
  code: string
  url: string
  ownerId: string | null
  permanent: boolean
  createdAt: Date
  expiresAt: Date | null
  deletedAt: Date | null
  clicks: number
}

export interface NewLink {
  url: string
  alias?: string | undefined
  ownerId: string | null
  ttlSeconds?: number | undefined
  permanent: boolean
}

export interface LinksRepository {
  /** Inserts inside the caller's transaction (so it can share it with an idempotency key). */
  create: (client: pg.PoolClient, link: NewLink) => Promise<Link>
  findByCode: (code: string) => Promise<Link | null>
  listByOwner: (ownerId: string, limit: number, beforeId?: string) => Promise<Link[]>
  /** Soft delete by the owner; false when there is no such live link of theirs. */
  softDelete: (code: string, ownerId: string) => Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    links: LinksRepository
  }
}

const columns = 'id, code, url, owner_id, permanent, created_at, expires_at, deleted_at, clicks'

interface Row {
  id: string
  code: string
  url: string
  owner_id: string | null
  permanent: boolean
  created_at: Date
  expires_at: Date | null
  deleted_at: Date | null
  clicks: string
}

function toLink (row: Row): Link {
  return {
    id: row.id,
    code: row.code,
    url: row.url,
    ownerId: row.owner_id,
    permanent: row.permanent,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    deletedAt: row.deleted_at,
    clicks: Number(row.clicks)
  }
}

export function createLinksRepository (pool: pg.Pool, permutationKey: string): LinksRepository {
  const ids = createIdAllocator()
  const permutation = createPermutation(permutationKey)
  const insert = `INSERT INTO links (id, code, is_alias, url, owner_id, permanent, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
    ON CONFLICT (code) DO NOTHING RETURNING ${columns}`

  return {
    async create (client, link) {
      const values = (id: number, code: string) =>
        [id, code, link.alias !== undefined, link.url, link.ownerId, link.permanent, link.ttlSeconds ?? null]
      if (link.alias !== undefined) {
        const { rows } = await client.query<Row>(insert, values(await ids.nextId(client), link.alias))
        if (rows.length === 0) throw new AliasTaken(link.alias)
        return toLink(rows[0]!)
      }
      // Generated codes never collide with each other (the permutation is a bijection), but an
      // alias may already hold the code an id maps to; then the next id is used.
      for (;;) {
        const id = await ids.nextId(client)
        const { rows } = await client.query<Row>(insert, values(id, encodeBase62(permutation.permute(id))))
        if (rows.length > 0) return toLink(rows[0]!)
      }
    },

    async findByCode (code) {
      const { rows } = await pool.query<Row>(`SELECT ${columns} FROM links WHERE code = $1`, [code])
      return rows[0] ? toLink(rows[0]) : null
    },

    async listByOwner (ownerId, limit, beforeId) {
      const { rows } = await pool.query<Row>(
        `SELECT ${columns} FROM links WHERE owner_id = $1 AND deleted_at IS NULL ` +
          'AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3',
        [ownerId, beforeId ?? null, limit])
      return rows.map(toLink)
    },

    async softDelete (code, ownerId) {
      const { rowCount } = await pool.query(
        'UPDATE links SET deleted_at = now() WHERE code = $1 AND owner_id = $2 AND deleted_at IS NULL',
        [code, ownerId])
      return rowCount === 1
    }
  }
}

export default fp(async function linksRepository (app: FastifyInstance, options: { permutationKey: string }) {
  app.decorate('links', createLinksRepository(app.pg, options.permutationKey))
}, { name: 'links-repository', dependencies: ['postgres'] })
