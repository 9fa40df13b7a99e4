/**
 * The test environment of the mutation run: Node's, plus the bail that jest
 * has no programmatic option for. Once a test fails the mutant is killed, so
 * the rest of the run's tests are skipped. The flag lives in the runner's
 * realm, shared by the run's test files; global-setup.js clears
 * it before each run.
 */
const { TestEnvironment } = require('jest-environment-node');

class BailingEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') {
      globalThis.__mutationRunFailed = true;
    }
    if (event.name === 'test_start' && globalThis.__mutationRunFailed) {
      event.test.mode = 'skip';
    }
  }
}

module.exports = BailingEnvironment;
