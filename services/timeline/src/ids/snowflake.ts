// Time-ordered 64-bit ids (Twitter's snowflake layout): 41 bits of milliseconds since
// 2026-01-01, 10 bits of worker id, 12 bits of sequence. They sort by creation time, so a post
// id is also its cursor, and 4 096 ids per millisecond per worker never need coordination.
// Ids travel as decimal strings: JSON numbers lose precision past 2^53.

export const EPOCH_MS = Date.UTC(2026, 0, 1)
const WORKER_BITS = 10n
const SEQUENCE_BITS = 12n
export const MAX_WORKER_ID = (1 << Number(WORKER_BITS)) - 1
const MAX_SEQUENCE = (1 << Number(SEQUENCE_BITS)) - 1

export interface SnowflakeGenerator {
  nextId: () => string
}

export function createSnowflake (workerId: number, now: () => number = Date.now): SnowflakeGenerator {
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER_ID) throw new RangeError(`worker id must be 0–${MAX_WORKER_ID}`)
  let lastMs = -1
  let sequence = 0
  return {
    nextId () {
      let ms = now()
      // A clock stepping back (NTP) must not produce an id below one already issued.
      if (ms < lastMs) ms = lastMs
      if (ms === lastMs) {
        sequence = (sequence + 1) & MAX_SEQUENCE
        if (sequence === 0) {
          // 4 096 ids in this millisecond: borrow the next one.
          ms = lastMs + 1
        }
      } else {
        sequence = 0
      }
      lastMs = ms
      const id = (BigInt(ms - EPOCH_MS) << (WORKER_BITS + SEQUENCE_BITS)) | (BigInt(workerId) << SEQUENCE_BITS) | BigInt(sequence)
      return id.toString()
    }
  }
}

/** The creation time inside an id (ms since the Unix epoch). */
export function snowflakeTime (id: string): number {
  return Number(BigInt(id) >> (WORKER_BITS + SEQUENCE_BITS)) + EPOCH_MS
}
