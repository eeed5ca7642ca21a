// Lint: typescript-eslint's recommended rules plus the ones that guard Airlock's design —
// no floating promises (a lost rejection is a lost failure), deterministic workflow code, a pure core.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = { group: ['node:*'], message: 'workflow and core code is deterministic and pure: no Node built-ins (I/O belongs in activities/ or src/)' };

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.airlock/**', '.airlock-build/**', 'bench/results/**', 'test/fixtures/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NODE_BUILTINS,
            {
              group: ['../src/*', '!../src/core', '!../src/agent'],
              message: 'workflows import only the sandbox-safe parts of src/ (the governance core, the agent SDK), and types',
              allowTypeImports: true,
            },
            { group: ['../activities/*'], message: 'import activities by type only', allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'no I/O in workflow code: use an activity' }, { name: 'setInterval', message: 'use sleep/condition from @temporalio/workflow' }],
    },
  },
  {
    // The agent SDK is bundled into the workflow sandbox with the agents that import it.
    files: ['src/agent/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NODE_BUILTINS, { group: ['../*', '!../core'], message: 'the agent SDK depends only on the core', allowTypeImports: true }] }],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'the agent SDK runs in the workflow sandbox: no I/O' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NODE_BUILTINS,
            { group: ['../*'], message: 'the core depends on nothing outside src/core' },
            { group: ['@temporalio/*', 'express', 'pg', 'better-sqlite3', 'pino'], message: 'the core has no Temporal, HTTP, database or logging' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'the core does no I/O' }, { name: 'process', message: 'the core reads no environment' }],
    },
  },
  // The inbox's browser modules (served as they are, no build step): browser globals, no type-aware rules.
  {
    files: ['src/inbox/web/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, program: null },
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
        requestAnimationFrame: 'readonly',
        addEventListener: 'readonly',
        removeEventListener: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
