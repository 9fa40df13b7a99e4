/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The jsii-language packages' tests need `npm run package` first: `npm run consumers` runs them.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/bindings/'],
  // Sources, not the compiled lib/*.js beside them.
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }],
  },
  testTimeout: 60000,
};
