// The configuration half of `pnpm lint`: files no TypeScript compiler reads, checked against
// what reads them.
//   - .github/workflows/*.yml against GitHub's workflow schema (action-validator);
//   - infra/grafana/dashboards/*.json against their generator (build-dashboards.ts);
//   - docker-compose.yml with `docker compose config` (skipped, and said so, without Docker's CLI).
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
let failed = 0

function run (what: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (result.status === 0) {
    console.log(`lint-config: ${what}: ok`)
    return
  }
  failed++
  console.error(`lint-config: ${what}: failed\n${result.stdout}${result.stderr}${result.error?.message ?? ''}`)
}

const workflows = readdirSync(join(root, '.github/workflows')).filter((f) => /\.ya?ml$/.test(f)).map((f) => join('.github/workflows', f))
for (const workflow of workflows) run(workflow, join(root, 'node_modules/.bin/action-validator'), [workflow])
run('grafana dashboards match their generator', process.execPath, ['infra/grafana/build-dashboards.ts', '--check'])

let docker = false
try {
  execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' })
  docker = true
} catch {}
if (docker) run('docker-compose.yml', 'docker', ['compose', 'config', '--quiet'])
else console.log('lint-config: docker-compose.yml: skipped (no `docker compose` on this machine)')

process.exit(failed === 0 ? 0 : 1)
