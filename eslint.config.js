// One lint and format setup for the whole tree: neostandard (standard style, TypeScript aware).
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '.stack/**', 'infra/kafka/target/**']
  }),
  {
    files: ['k6/**/*.js'],
    languageOptions: { globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly' } }
  },
  {
    // Source is read in reviews and side-by-side diffs; tests and scripts keep their long
    // tables of cases and commands.
    files: ['packages/*/src/**/*.{ts,tsx}', 'services/*/src/**/*.ts'],
    rules: { '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true }] }
  },
  {
    rules: {
      // `void promise` marks a deliberately unawaited promise.
      'no-void': ['error', { allowAsStatement: true }],
      // A TypeBox schema and its Static type share a name by design; tsc already catches real clashes.
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
