/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // hyparquet (and hysnappy) ship ESM only: compile it (and our TS) to CommonJS for jest's module system.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { ignoreCodes: ['TS151001'] } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer|hysnappy)/)'],
  globalSetup: '<rootDir>/test/setup/globalSetup.ts',
  globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
  testTimeout: 120000,
  forceExit: true,
};
