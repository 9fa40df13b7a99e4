/**
 * The order of the mutation run's test files: those that kill most mutants
 * soonest first, as the run bails at the first failure.
 */
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = ['construct-inputs', 'construct-details', 'cancel-pipeline-deployment', 'nag', 'construct-properties'];
const rank = (test) => {
  const index = FIRST.findIndex((name) => test.path.endsWith(`/${name}.test.ts`));
  return index < 0 ? FIRST.length : index;
};

class MutationSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}

module.exports = MutationSequencer;
