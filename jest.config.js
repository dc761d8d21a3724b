/** Tests run on the compiled output (npm test builds first), the same CommonJS the services run. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  // e2e tests start real backends; two cores do not take many of them at once.
  maxWorkers: 2,
  testTimeout: 60_000,
  verbose: true,
};
