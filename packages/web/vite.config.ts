// The UI's build: assets under /_/ (the prefix the gateway reserves for them), one small bundle,
// and its gzipped size printed after every build and held to a budget.
import { gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'

/** The most the production bundle may weigh, gzipped (issue #18). */
const BUDGET_BYTES = 100 * 1024

function sizeBudget (): Plugin {
  return {
    name: 'shortfeed-size-budget',
    apply: 'build',
    writeBundle (_options, bundle) {
      const rows = Object.values(bundle).map((file) => {
        const source = file.type === 'chunk' ? file.code : file.source
        return { name: file.fileName, raw: Buffer.byteLength(source), gzip: gzipSync(source).length }
      })
      const total = rows.reduce((sum, r) => sum + r.gzip, 0)
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
      const lines = rows.map((r) => `  ${r.name.padEnd(40)} ${kb(r.raw).padStart(10)} ${kb(r.gzip).padStart(10)} gzip`)
      console.log(`\nbundle size (budget ${kb(BUDGET_BYTES)} gzipped)\n${lines.join('\n')}\n  ${'total'.padEnd(40)} ${''.padStart(10)} ${kb(total).padStart(10)} gzip\n`)
      if (total > BUDGET_BYTES) this.error(`the bundle is ${kb(total)} gzipped, over the ${kb(BUDGET_BYTES)} budget`)
    }
  }
}

export default defineConfig({
  base: '/_/',
  plugins: [sizeBudget()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  // `pnpm --filter @shortfeed/web dev`: the UI with hot reload, the API from a running stack.
  server: { proxy: { '/api': process.env['SHORTFEED_API'] ?? 'http://127.0.0.1:8080' } }
})
