// The cluster suite (`make test-cluster`): every `*.cluster.test.ts`, against a self-hosted Temporal cluster
// each suite starts itself (devstack/cluster/: PostgreSQL, the server's four services, workers, the API).
// Not one of jest.config.js's projects, so `make test` never runs it; the unit project ignores these files.
const base = require('./jest.config.js');

const unit = base.projects.find((p) => p.displayName === 'unit');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: unit.testEnvironment,
  roots: unit.roots,
  moduleNameMapper: unit.moduleNameMapper,
  transform: unit.transform,
  transformIgnorePatterns: unit.transformIgnorePatterns,
  displayName: 'cluster',
  testMatch: ['**/*.cluster.test.ts'],
  // The suite's own limits are per test; this is the fallback.
  testTimeout: 900000,
  forceExit: true,
};
