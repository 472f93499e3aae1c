// Summarises a V8 .cpuprofile (from `pnpm bench --profile NAME`): self time per package and the
// hottest functions, so "where does the time go" is one command instead of a flame-graph session.
//   node bench/profile-summary.ts bench/results/profiles/gateway-123.cpuprofile [top]
import { readFileSync } from 'node:fs'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2)
if (!file) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const top = Number(topArg ?? 25)

const selfTime = new Map<number, number>()
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...selfTime.values()].reduce((a, b) => a + b, 0)

function packageOf (url: string): string {
  if (!url) return '(native/V8)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return 'node core'
  const m = /\/(services\/[^/]+|packages\/[^/]+|bench)\//.exec(url)
  return m ? m[1]! : url
}

const byPackage = new Map<string, number>()
const byFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const t = selfTime.get(node.id) ?? 0
  if (t === 0) continue
  const { functionName, url, lineNumber } = node.callFrame
  const pkg = packageOf(url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t)
  const key = `${functionName || '(anonymous)'}  ${pkg}${url ? `:${lineNumber + 1}` : ''}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + t)
}
const pct = (t: number) => `${(100 * t / total).toFixed(1).padStart(5)} %`
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`${title}\n`)
  for (const [name, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(t)}  ${name}\n`)
}
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n`)
print('\nself time by package', byPackage)
print('\nhottest functions (self time)', byFunction)
