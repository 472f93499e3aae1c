// Loopback ports for the servers and processes this project starts: a preferred one when it is
// free, otherwise a random free one *below* the kernel's ephemeral range. A port the kernel
// hands out for `listen(0)` comes from the ephemeral range, which is also where every outgoing
// connection takes its source port; between our check and the server's own bind (seconds, for
// Kafka or Postgres), any connection on the machine could take it, and a test run once lost its
// Kafka controller that way ("Address already in use"). Below the range only listeners compete.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const LOWEST = 20_000
const ATTEMPTS = 50
/** Ports this process has handed out: never twice, even once they are free again. */
const handedOut = new Set<number>()

function tryListen (port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => { resolve(undefined) })
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : undefined
      server.close(() => { resolve(bound) })
    })
  })
}

/** The first port of the kernel's ephemeral range (Linux: ip_local_port_range; 32768 elsewhere). */
function readEphemeralStart (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > LOWEST + 1_000 ? low : 32_768
  } catch {
    return 32_768
  }
}

const EPHEMERAL_START = readEphemeralStart()

export async function freePort (preferred?: number): Promise<number> {
  if (preferred !== undefined && await claim(preferred)) return preferred
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const candidate = LOWEST + Math.floor(Math.random() * (EPHEMERAL_START - LOWEST))
    if (await claim(candidate)) return candidate
  }
  // A crowded range: the kernel's choice, with the race described above.
  const port = await tryListen(0)
  if (port === undefined) throw new Error('no free loopback port')
  handedOut.add(port)
  return port
}

/** Reserves `port` before checking it, so concurrent callers never get the same one. */
async function claim (port: number): Promise<boolean> {
  if (handedOut.has(port)) return false
  handedOut.add(port)
  if (await tryListen(port) === port) return true
  handedOut.delete(port)
  return false
}
