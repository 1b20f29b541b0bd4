// neostandard (the undici/fastify/pino base) for style, plus a few type-aware rules and the
// dependency direction from ARCHITECTURE.md: protocols never reach into the engine, workers only into
// the engine and the scan types, src never into protocols (node.ts, the composition root, excepted).
import neostandard from 'neostandard'

export default [
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...neostandard({ ts: true }),
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      'no-void': ['error', { allowAsStatement: true }], // marks deliberately unawaited promises
    },
  },
  {
    files: ['protocols/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/engine/**'], message: 'protocols talk to src/scan, never to the engine' }] }] },
  },
  {
    files: ['workers/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/**', '**/src/cluster/**', '**/src/policy/**', '**/src/stats/**', '**/src/cli/**'], message: 'workers reach only src/engine and src/scan types' }] }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/**'], message: 'only src/node.ts (the composition root) wires protocols' }] }] },
  },
  {
    files: ['config/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/protocols/**', '**/workers/**'], message: 'config/ stands alone: src and protocols import config, never the reverse' }] }] },
  },
]
