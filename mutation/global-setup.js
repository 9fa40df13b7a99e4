// Before each run of the mutation run: no test has failed yet (see environment.js).
module.exports = () => {
  globalThis.__mutationRunFailed = false;
};
