// Link ids from a Postgres sequence, handed out in blocks: the sequence advances by the block
// size (its INCREMENT, set by the migration), each instance takes a block with one nextval()
// and serves the next creates from memory. Ids are unique across instances; a restart leaves
// a gap, which costs nothing in a 3.5·10^12 space.
import type pg from 'pg'

export interface IdAllocator {
  /** `db` is the caller's transaction client: a create never waits for a second connection. */
  nextId: (db: pg.ClientBase) => Promise<number>
}

export function createIdAllocator (sequence = 'link_id_blocks'): IdAllocator {
  let next = 0
  let end = 0
  let refill: Promise<void> | undefined

  async function takeBlock (db: pg.ClientBase) {
    // nextval is not transactional: a rolled-back create still consumed its block, never reuses it.
    const { rows } = await db.query<{ start: string, size: string }>(
      'SELECT nextval($1::regclass) AS start, (SELECT increment_by FROM pg_sequences WHERE sequencename = $2) AS size',
      [sequence, sequence])
    const start = Number(rows[0]!.start)
    next = start
    end = start + Number(rows[0]!.size)
  }

  return {
    async nextId (db) {
      // Concurrent creates that find the block empty share one refill.
      while (next >= end) {
        refill ??= takeBlock(db).finally(() => { refill = undefined })
        await refill
      }
      return next++
    }
  }
}
