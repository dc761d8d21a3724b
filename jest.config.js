/** Tests run on the compiled output (npm test builds first), the same CommonJS the services run. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  // e2e tests start real backends and a mesh of four services; on two cores, running them one at a time keeps
  // their timing (probe flips, scrape waits) representative of a real run.
  maxWorkers: 1,
  testTimeout: 60_000,
  verbose: true,
  globalSetup: "<rootDir>/dist/test/support/global-setup.js",
  globalTeardown: "<rootDir>/dist/test/support/global-teardown.js",
  reporters: ["default", "<rootDir>/dist/test/support/slowest-reporter.js"],
};
