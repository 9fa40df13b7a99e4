// The mutation run runs the tests once per mutant, so it keeps each run short:
// fewer runs per fast-check property,
process.env.FC_NUM_RUNS = process.env.FC_NUM_RUNS ?? '4';
// and no CloudFormation schema validation at synth (aws-cdk-lib's default
// plugin, which only warns and costs seconds per synth); the construct's own
// validations and the cdk-nag plugin the tests add still run.
process.env.CDK_VALIDATION = 'false';
