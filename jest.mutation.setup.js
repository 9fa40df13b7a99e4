// The mutation run runs the tests once per mutant: fewer runs per fast-check property.
process.env.FC_NUM_RUNS = process.env.FC_NUM_RUNS ?? '4';
