// CommonJS syntax on purpose: the package is CommonJS, and ESM syntax here makes Vite print a
// "ESM syntax in a file loaded as CommonJS" warning on every run.
const { defineConfig } = require('vitest/config') as typeof import('vitest/config');

/**
 * Unit tests (test/unit) and end-to-end tests (test/e2e, test/support) run from one config.
 * Files run one at a time: the e2e tests share one Docker engine on a 2-core machine, and their
 * private Apache/Redis instances would otherwise compete for CPU and time out. scripts/test.sh runs
 * the files that simulate other hosts (their own namespaces, dockerd and Apache), and one long
 * single-host file (tls-auto) to even the lanes out, as a second vitest run beside the first.
 */
module.exports = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
