import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  resolve: {
    // Every @satellite/<name> package is tested from its sources: packages/<name>/src/index.ts
    // (and @satellite/core/internal from packages/core/src/internal.ts).
    alias: [
      { find: /^@satellite\/core\/internal$/, replacement: src('./packages/core/src/internal.ts') },
      { find: /^@satellite\/muc\/postgres$/, replacement: src('./packages/muc/src/postgres-store.ts') },
      { find: /^@satellite\/bridge\/postgres$/, replacement: src('./packages/bridge/src/postgres-store.ts') },
      { find: /^@satellite\/([a-z-]+)$/, replacement: `${src('./packages/')}$1/src/index.ts` },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'packages/*/test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
            'bench/test/**/*.test.ts',
          ],
        },
      },
      {
        // Real Prosody and ejabberd, started once for the project by e2e/setup/servers.ts.
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/test/**/*.test.ts'],
          globalSetup: ['e2e/setup/servers.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
        },
      },
    ],
  },
})
