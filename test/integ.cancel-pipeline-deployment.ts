/**
 * Integration test, for someone with an AWS account and a Proton service that
 * has a pipeline. `npm test` only synthesizes it. To deploy it and check the
 * attributes on AWS:
 *
 *   PROTON_SERVICE_NAME=my-service npx cdk deploy --app 'npx tsx test/integ.cancel-pipeline-deployment.ts' --all
 *
 * (or with `integ-runner`, once it reads this aws-cdk-lib's assemblies).
 * Start a pipeline deployment of the service first to see a cancel; without
 * one the resource reports the current status and CancellationRequested 'false'.
 */
import { ActualResult, ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, CustomResource, Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment } from '../lib';

const app = new App();
const stack = new Stack(app, 'CancelPipelineDeploymentInteg');

const cancel = new CancelPipelineDeployment(stack, 'Cancel', {
  serviceName: process.env.PROTON_SERVICE_NAME ?? 'integ-service',
});
const resource = cancel.node.findChild('Resource') as CustomResource;

const integ = new IntegTest(app, 'CancelPipelineDeploymentIntegTest', { testCases: [stack] });
integ.assertions.expect('DeploymentStatusIsFinal',
  ExpectedResult.stringLikeRegexp('^(CANCELLED|FAILED|SUCCEEDED|DELETE_FAILED|DELETE_COMPLETE)$'),
  ActualResult.fromCustomResource(resource, 'DeploymentStatus'));
integ.assertions.expect('CancellationRequestedIsBoolean',
  ExpectedResult.stringLikeRegexp('^(true|false)$'),
  ActualResult.fromCustomResource(resource, 'CancellationRequested'));
integ.assertions.expect('PipelineArnNamesTheService',
  ExpectedResult.stringLikeRegexp(':proton:.+:service/.+/pipeline'),
  ActualResult.fromCustomResource(resource, 'PipelineArn'));

app.synth();
