// ESLint flat config. CommonJS like the rest of the package (see package.json: no "type").
// typescript-eslint's type-aware recommended rules over src/, test/ and bench/, through the one
// tsconfig that covers all three; `npm run lint` runs it with Prettier and dependency-cruiser.
const eslint = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-artifacts/', 'bench/results/', 'coverage/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Promises: none floats, none goes where a plain callback is expected (both in the recommended set).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Off: the deps interfaces (DeployDeps, ReconcileDeps...) are implemented by async fakes and thin
      // adapters that need no await; an `async` that only says "returns a promise" is fine here.
      '@typescript-eslint/require-await': 'off',
      // Off: those interfaces declare methods in shorthand and are passed around as functions
      // (`ctx.print`, `deps.isPortFree`); none of them uses `this`.
      '@typescript-eslint/unbound-method': 'off',
      // Off: node's execFile callback error (ExecFileException) is an Error the rule does not recognise.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    // Tests: vitest's asymmetric matchers (expect.any, expect.stringContaining) and caught errors are
    // typed `any` by design; checking them value by value would add casts, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Config files at the root: plain CommonJS, outside the TypeScript projects.
    files: ['*.js', '*.cjs', '*.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
