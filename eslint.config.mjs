// Lint rules that guard the Temporal invariants: every promise is awaited or handled, workflow files
// import no Node built-ins (workflows must be deterministic and I/O-free), and no `any` in src/. The
// dashboard (ui/, browser code with its own tsconfig) writes text, never HTML, and keeps the key out of
// cookies and localStorage.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'devstack/dist/**',
      'node_modules/**',
      '.data/**',
      '.tools/**',
      'coverage/**',
      '*.js',
      '*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'devstack/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'devstack/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['ui/**/*.ts'],
    languageOptions: { parserOptions: { project: './ui/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'createContextualFragment'].map((property) => ({
          property,
          message: 'Put text in with textContent or the helpers of ui/src/dom.ts: data never becomes markup.',
        })),
        { object: 'document', property: 'write', message: 'Build the page with DOM calls.' },
        { object: 'document', property: 'cookie', message: 'The key lives in sessionStorage only.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'localStorage', message: 'The key lives in sessionStorage only (this tab, never on disk).' },
      ],
      // The dashboard knows the product only through the HTTP API.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src', '**/src/**', '**/devstack', '**/devstack/**', 'finetune-flow', 'finetune-flow/**'],
              message: 'The dashboard talks to the product over HTTP only (ui/src/api.ts).',
            },
          ],
        },
      ],
    },
  },
  // Two wings (docs/design.md): the product never imports the local stand-ins, and the stand-ins use the
  // product only through its package exports (`finetune-flow`, `finetune-flow/config`, ...), never its files.
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/devstack', '**/devstack/**'], message: 'The product never imports the local stand-ins.' },
          ],
        },
      ],
    },
  },
  {
    files: ['devstack/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src', '**/src/**', 'finetune-flow/dist/**'],
              message: "The stand-ins use the product through its package exports: import from 'finetune-flow/...'.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: [
      'src/workflows/**/*.ts',
      'src/runSpec/names.ts',
      'src/runSpec/defaults.ts',
      'src/runSpec/contentKey.ts',
      'src/config/searchAttributes.ts',
      'src/config/jobEvents.ts',
      'src/cost/budget.ts',
      'src/cost/format.ts',
      'src/cost/types.ts',
      'src/runSpec/notifications.ts',
      'src/webhooks/events.ts',
      'src/webhooks/backoff.ts',
      'src/webhooks/registry.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must not use Node built-ins (no I/O, deterministic).',
          })),
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              message: 'Workflows import activities as types only.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
