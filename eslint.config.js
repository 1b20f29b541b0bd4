// neostandard (the undici/fastify/pino base) for style, plus a few type-aware rules and the
// dependency direction from ARCHITECTURE.md: protocols never reach into the engine, workers only into
// the engine and the scan types, src never into protocols (node.ts, the composition root, excepted),
// the ICAP package (protocols/icap, icap-server-lite) into nothing of Scanwall, and only src/icap/ into it;
// likewise the clamd package (protocols/clamd) and src/clamd/; protocols/common (the listeners the clamd and
// milter servers share) imports nothing of Scanwall.
import neostandard from 'neostandard'

export default [
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'coverage/**'] },
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
    // The ICAP package (icap-server-lite) stands alone: Scanwall consumes it, never the other way.
    files: ['protocols/icap/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/config/**', '**/test/helpers/**'], message: 'icap-server-lite imports nothing from Scanwall' }] }] },
  },
  {
    // The clamd protocol server stands alone like the ICAP package: the scan is its handler.
    files: ['protocols/clamd/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/config/**', '**/test/helpers/**', 'icap-server-lite'], message: 'protocols/clamd imports nothing from Scanwall' }] }] },
  },
  {
    // What the clamd and milter servers share (the listeners) stands alone too: node:net only.
    files: ['protocols/common/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/config/**', '**/test/helpers/**', 'icap-server-lite', '**/protocols/clamd/**', '**/protocols/milter/**', '**/protocols/icap/**'], message: 'protocols/common imports nothing of Scanwall, nor a protocol' }] }] },
  },
  {
    files: ['workers/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/**', '**/src/cluster/**', '**/src/policy/**', '**/src/stats/**', '**/src/cli/**'], message: 'workers reach only src/engine and src/scan types' }] }] },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/scan/*', '**/policy/*', '**/cluster/*', '**/cli/*', '**/updates/*', '**/protocols/**', '**/config/*', '**/node.js', '**/metrics.js', 'icap-server-lite'], message: 'the engine imports only itself (and src/errors.ts, src/log.ts types): it runs inside workers' }] }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/cli/**', 'src/icap/**', 'src/clamd/**', 'src/milter/**', 'src/engine/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/protocols/**'], message: 'only src/node.ts (the composition root) wires protocols' },
          { group: ['icap-server-lite'], message: 'only src/icap/ (the ICAP adapter) uses the ICAP package' },
        ],
      }],
    },
  },
  {
    files: ['src/icap/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/**'], message: 'the adapter uses icap-server-lite by its package name, never its files' }] }] },
  },
  {
    files: ['src/clamd/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/clamd/*', '!**/protocols/clamd/index.js'], message: 'the clamd adapter uses protocols/clamd through its index only' }, { group: ['**/protocols/icap/**', '**/protocols/snmp/**', '**/protocols/cluster/**', 'icap-server-lite'], message: 'the clamd adapter wires only the clamd package' }] }] },
  },
  {
    // The milter protocol server stands alone like the clamd one: the judging is its handler.
    files: ['protocols/milter/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/config/**', '**/test/helpers/**', 'icap-server-lite', '**/protocols/clamd/**'], message: 'protocols/milter imports nothing from Scanwall' }] }] },
  },
  {
    files: ['src/milter/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/protocols/milter/*', '!**/protocols/milter/index.js'], message: 'the milter adapter uses protocols/milter through its index only' }, { group: ['**/protocols/icap/**', '**/protocols/clamd/**', '**/protocols/snmp/**', '**/protocols/cluster/**', 'icap-server-lite'], message: 'the milter adapter wires only the milter package' }] }] },
  },
  {
    files: ['config/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/protocols/**', '**/workers/**'], message: 'config/ stands alone: src and protocols import config, never the reverse' }] }] },
  },
]
