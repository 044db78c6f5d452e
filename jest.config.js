// devstack/ imports the product by its package name (package.json `exports`, e.g. `finetune-flow/config`);
// under jest each exported path maps to its TypeScript source, as tsconfig.json's `paths` do for tsc.
const { exports: packageExports } = require('./package.json');

const productModules = Object.fromEntries(
  Object.entries(packageExports)
    .filter(([subpath, target]) => typeof target === 'object' && !subpath.startsWith('./dist'))
    .map(([subpath, target]) => [
      `^finetune-flow${subpath === '.' ? '' : subpath.slice(1)}$`,
      `<rootDir>/${target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')}`,
    ]),
);

/** What both projects share. */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  moduleNameMapper: productModules,
  transform: {
    // hyparquet (and hysnappy) ship ESM only: compile it (and our TS) to CommonJS for jest's module system.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { ignoreCodes: ['TS151001'] } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer|hysnappy)/)'],
  testTimeout: 120000,
};

/**
 * Two projects (docs/local-stack.md, Tests):
 * - `unit`: every `*.test.ts` that needs no shared stack: pure modules, activities over fakes, workflow logic
 *   with mocked activities on a throw-away Temporal dev server. `make test-unit`, under a minute.
 * - `stack`: every `*.stack.test.ts`: the suites that run against the local stack (Temporal, Azurite, the
 *   Azure ML emulator) that test/setup/globalSetup.ts starts once for the whole run, or start processes.
 * `make test` runs both.
 * @type {import('jest').Config}
 */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      // *.stack.test.ts: the stack project; *.cluster.test.ts: jest.cluster.config.js (`make test-cluster`).
      testPathIgnorePatterns: ['/node_modules/', '\\.stack\\.test\\.ts$', '\\.cluster\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'stack',
      testMatch: ['**/*.stack.test.ts'],
      globalSetup: '<rootDir>/test/setup/globalSetup.ts',
      globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
    },
  ],
  testTimeout: 120000,
  forceExit: true,
};
