// The home-timeline scenario: a reader who follows ten celebrities (accounts past the
// celebrity threshold, whose posts are pulled at read time, never pushed), each with 20 posts.
import pg from 'pg'
import type { Api, User } from '../lib/api.ts'

/** Followers the celebrities are given: any count over CELEBRITY_FOLLOWER_THRESHOLD does. */
const CELEBRITY_FOLLOWERS = 1_000_000

export async function seedCelebrityReader (api: Api, postgresUrl: string, prefix: string): Promise<User> {
  const reader = await api.register(`${prefix}_reader`)
  const celebrities: User[] = []
  for (let i = 0; i < 10; i++) celebrities.push(await api.register(`${prefix}_celebrity${i}`))
  // Only the counter decides who is pulled: no need for a million follows rows.
  const pool = new pg.Pool({ connectionString: new URL('/timeline', postgresUrl).toString(), max: 1 })
  try {
    await pool.query('UPDATE users SET follower_count = $2 WHERE id = ANY($1::bigint[])', [celebrities.map((c) => c.id), CELEBRITY_FOLLOWERS])
  } finally {
    await pool.end()
  }
  for (const celebrity of celebrities) {
    await api.follow(reader, celebrity.id)
    for (let p = 0; p < 20; p++) await api.post(celebrity, `post ${p} from ${celebrity.handle}`)
  }
  return reader
}
