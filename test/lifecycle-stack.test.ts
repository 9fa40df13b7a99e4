import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment } from '../lib';
import { handlerSteps, LocalDeployment, operations, RequestResult, synthesize, withDeployment } from '../local/cloudformation';
import { PipelineOptions, RecordedCall, SCENARIOS, serviceNameOf } from '../local/proton';
import { cancelStack, protonRoleKey } from './cancel-stack';

// End to end across a stack's life: Update (changed trigger, new service name),
// rollback, Delete, and two instances sharing one provider. Each stack version
// is its own synthesized assembly; the local lifecycle sends what CloudFormation
// would for the change from one to the next.

const SERVICE = 'web-api';
const RENAMED = 'web-api-v2';
/** An in-progress deployment whose cancellation takes 30 s. */
const QUICK = { pipeline: { status: 'IN_PROGRESS', cancelTakes: 30 } as PipelineOptions };

const assemblies: Record<string, string> = {};

/** The app at one version: the same stacks, with properties that differ between versions. */
function version(name: 'v1' | 'v2-trigger' | 'v2-renamed'): string {
  assemblies[name] ??= synthesize((app) => {
    const trigger = name === 'v2-trigger' ? '2' : '1';
    cancelStack(new Stack(app, 'Svc'), { serviceName: name === 'v2-renamed' ? RENAMED : SERVICE, trigger });
    cancelStack(new Stack(app, 'Strict'), { serviceName: SERVICE, failIfNothingToCancel: true, failUnlessCancelled: true, trigger });
    const pair = new Stack(app, 'Pair');
    cancelStack(pair, { serviceName: 'orders' }, 'Orders');
    cancelStack(pair, { serviceName: 'billing' }, 'Billing');
    if (name === 'v1') {
      // Enough long service names to need managed policies besides any inline one.
      const many = new Stack(app, 'Many');
      for (let i = 0; i < 120; i++) {
        new CancelPipelineDeployment(many, `Cancel${i}`, { serviceName: `s${String(i).padStart(3, '0')}-${'x'.repeat(95)}` });
      }
    }
  });
  return assemblies[name];
}

afterAll(() => Object.values(assemblies).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/**
 * Runs `fn` on stack `stackName` of v1; `onStatus` (settable from `fn`) sees
 * every stack status as the lifecycle enters it.
 */
async function onStack<T>(stackName: string, fn: (d: LocalDeployment, hooks: { onStatus: (status: string) => void }) => Promise<T>): Promise<T> {
  const hooks = { onStatus: (_status: string) => undefined as void };
  return withDeployment(version('v1'), stackName, (d) => fn(d, hooks), {
    cfn: { onProgress: (e) => e.kind === 'stack-status' && hooks.onStatus(e.status) },
  });
}

/** The services the calls are about. */
function about(calls: readonly RecordedCall[]): string[] {
  return [...new Set(calls.map((c) => String(serviceNameOf(c.input as Record<string, unknown>))))];
}

/** The steps the handler logged while serving one request. */
function stepsOf(result: RequestResult): unknown[] {
  return handlerSteps(result.logs).map((s) => s.step);
}

describe('Update', () => {
  test('a changed trigger cancels again and keeps the physical id', async () => {
    await onStack('Svc', async ({ proton, cfn, protonCalls }) => {
      // GIVEN the stack created, and a new deployment in progress since
      proton.addService(SERVICE, QUICK);
      expect((await cfn.createStack()).stackStatus).toBe('CREATE_COMPLETE');
      proton.addService(SERVICE, QUICK);

      // WHEN the stack updates to a new trigger
      const [update, calls] = await protonCalls(() => cfn.updateStack(version('v2-trigger')));

      // THEN one Update, answered with the same physical id: no replacement, no cleanup
      expect(update.stackStatus).toBe('UPDATE_COMPLETE');
      expect(update.requests).toHaveLength(1);
      const [request] = update.requests;
      expect(request.request).toMatchObject({
        RequestType: 'Update',
        PhysicalResourceId: SERVICE,
        ResourceProperties: { ServiceName: SERVICE, Trigger: '2' },
        OldResourceProperties: { ServiceName: SERVICE, Trigger: '1' },
      });
      expect(request.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
      expect(operations(calls)).toEqual(['GetService', 'CancelServicePipelineDeployment', 'GetService', 'GetService']);
      // AND the handler asked CloudFormation for the stack status, and read a forward update
      expect(cfn.cloudFormationCalls.map((c) => [c.action, c.params.StackName, c.stackStatus, c.status])).toEqual([
        ['DescribeStacks', cfn.stackId, 'UPDATE_IN_PROGRESS', 200],
      ]);
      expect(cfn.cloudFormationCalls[0].accessKeyId).toBe(protonRoleKey(cfn));
      expect(cfn.outputs().CancelDeploymentStatus).toBe('CANCELLED');
    });
  });

  test('a new service name is a replacement: the Update cancels on the new service, the cleanup deletes the old one', async () => {
    await onStack('Svc', async ({ proton, cfn, protonCalls }) => {
      // GIVEN the stack created on SERVICE, and RENAMED with a deployment in progress
      proton.addService(SERVICE, QUICK);
      await cfn.createStack();
      proton.addService(SERVICE, QUICK);
      proton.addService(RENAMED, QUICK);

      // WHEN the stack updates to the new service name
      const [update, calls] = await protonCalls(() => cfn.updateStack(version('v2-renamed')));

      // THEN CloudFormation sends an Update (as for any property change of a custom resource);
      // the new physical id in the answer makes it a replacement, so the cleanup deletes the old one
      expect(update.stackStatus).toBe('UPDATE_COMPLETE');
      expect(update.requests.map((r) => [r.request.RequestType, r.request.PhysicalResourceId, r.request.ResourceProperties.ServiceName, r.response.Status, r.response.PhysicalResourceId]))
        .toEqual([
          ['Update', SERVICE, RENAMED, 'SUCCESS', RENAMED],
          ['Delete', SERVICE, SERVICE, 'SUCCESS', SERVICE],
        ]);
      expect(update.requests[0].response.Data).toMatchObject({ DeploymentStatus: 'CANCELLED', PipelineArn: `${proton.serviceArn(RENAMED)}/pipeline` });
      // AND only the new service was touched; the old one's new deployment runs on
      expect(about(calls)).toEqual([RENAMED]);
      expect(proton.status(SERVICE)).toBe('IN_PROGRESS');
      expect(cfn.resource(cfn.customResourceIds[0])?.physicalId).toBe(RENAMED);
      // AND the role's policy moved to the new service
      expect(cfn.protonPermissions().filter((p) => p.accessKeyId === protonRoleKey(cfn)).map((p) => p.serviceNames)).toEqual([[RENAMED]]);
    });
  });

  test('a replacement rolled back: the new resource is deleted, the old one kept without a request', async () => {
    await onStack('Svc', async ({ proton, cfn, protonCalls }) => {
      proton.addService(SERVICE, QUICK);
      await cfn.createStack();
      proton.addService(RENAMED, QUICK);

      // WHEN the rename succeeds for this resource but another resource fails
      const [update, calls] = await protonCalls(() => cfn.updateStack(version('v2-renamed'), { otherResourceFails: true }));

      // THEN no rollback Update (the old resource was never changed): the cleanup deletes the new one
      expect(update.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(update.requests.map((r) => [r.request.RequestType, r.request.PhysicalResourceId, r.response.Status, r.response.PhysicalResourceId])).toEqual([
        ['Update', SERVICE, 'SUCCESS', RENAMED],
        ['Delete', RENAMED, 'SUCCESS', RENAMED],
      ]);
      expect(about(calls)).toEqual([RENAMED]);
      expect(cfn.resource(cfn.customResourceIds[0])?.physicalId).toBe(SERVICE);
      expect(cfn.protonPermissions().filter((p) => p.accessKeyId === protonRoleKey(cfn)).map((p) => p.serviceNames)).toEqual([[SERVICE]]);
    });
  });

  test('rollback Update succeeds with the old properties, even with failIfNothingToCancel set', async () => {
    await onStack('Strict', async ({ proton, cfn, protonCalls }) => {
      // GIVEN the stack created (its deployment cancelled), and nothing in progress since
      proton.addService(SERVICE, QUICK);
      expect((await cfn.createStack()).stackStatus).toBe('CREATE_COMPLETE');

      // WHEN the update fails (nothing to cancel) and the stack rolls back
      const [update, calls] = await protonCalls(() => cfn.updateStack(version('v2-trigger')));

      // THEN the forward Update failed, and the rollback Update (properties swapped) succeeded
      expect(update.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const [forward, rollback] = update.requests;
      expect(forward.response.Status).toBe('FAILED');
      expect(forward.response.Reason).toMatch(/^Nothing to cancel: .*'web-api' in us-east-1 is CANCELLED/);
      expect(rollback.request).toMatchObject({
        RequestType: 'Update',
        PhysicalResourceId: SERVICE,
        ResourceProperties: { Trigger: '1', FailIfNothingToCancel: 'true' },
        OldResourceProperties: { Trigger: '2', FailIfNothingToCancel: 'true' },
      });
      expect(rollback.response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: SERVICE,
        Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'false' },
      });
      // AND the handler told the rollback apart through DescribeStacks; no cancel was sent
      expect(cfn.cloudFormationCalls.map((c) => c.stackStatus)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS']);
      expect(operations(calls)).toEqual(['GetService', 'GetService']);
    });
  });

  test('a rollback never cancels, even with a deployment in progress', async () => {
    await onStack('Svc', async ({ proton, cfn, protonCalls }, hooks) => {
      // GIVEN the stack created, and a deployment started again just as the stack rolls back
      proton.addService(SERVICE, QUICK);
      await cfn.createStack();
      proton.addService(SERVICE, QUICK);
      hooks.onStatus = (status) => {
        if (status === 'UPDATE_ROLLBACK_IN_PROGRESS') {
          proton.addService(SERVICE, QUICK);
        }
      };

      // WHEN the update succeeds for this resource but another resource fails
      const [update, calls] = await protonCalls(() => cfn.updateStack(version('v2-trigger'), { otherResourceFails: true }));

      // THEN the rollback Update reports the deployment in progress and leaves it alone
      expect(update.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const [forward, rollback] = update.requests;
      expect(forward.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
      expect(rollback.request.ResourceProperties.Trigger).toBe('1');
      expect(rollback.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
      expect(operations(calls).filter((o) => o === 'CancelServicePipelineDeployment')).toHaveLength(1);
      expect(proton.status(SERVICE)).toBe('IN_PROGRESS');
    });
  });

  test('a rollback Update succeeds even when Proton is unreachable', async () => {
    await onStack('Strict', async ({ proton, cfn }, hooks) => {
      proton.addService(SERVICE, QUICK);
      await cfn.createStack();
      hooks.onStatus = (status) => {
        if (status === 'UPDATE_ROLLBACK_IN_PROGRESS') {
          void proton.shutDown();
        }
      };

      const update = await cfn.updateStack(version('v2-trigger'));

      expect(update.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const rollback = update.requests[1];
      expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE });
      expect(rollback.response.Data).toMatchObject({ DeploymentStatus: '', PipelineArn: '', CancellationRequested: 'false' });
      expect(stepsOf(rollback)).toEqual(['waiter-started', 'report-only', 'report-read-failed', 'answered']);
    });
  });
});

describe('Delete', () => {
  test('Delete makes no Proton call', async () => {
    await onStack('Svc', async ({ proton, cfn, protonCalls }) => {
      // GIVEN the stack created, and Proton still up and answering
      proton.addService(SERVICE, QUICK);
      await cfn.createStack();

      const [deletion, calls] = await protonCalls(() => cfn.deleteStack());

      expect(deletion.stackStatus).toBe('DELETE_COMPLETE');
      expect(deletion.requests).toHaveLength(1);
      expect(deletion.requests[0].request).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: SERVICE });
      expect(deletion.requests[0].response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE });
      expect(stepsOf(deletion.requests[0])).toEqual(['delete', 'answered']);
      expect(calls).toEqual([]);
      expect(cfn.cloudFormationCalls).toEqual([]);
    });
  });

  test('a Create that failed after naming its resource is deleted by the handler, without a Proton call', async () => {
    await onStack('Strict', async ({ proton, cfn }, hooks) => {
      // GIVEN a cancellation that ends FAILED, with failUnlessCancelled
      proton.addService(SERVICE, { pipeline: { ...QUICK.pipeline, cancelEndsAs: 'FAILED' } });
      let callsBeforeRollback = -1;
      hooks.onStatus = (status) => {
        if (status === 'ROLLBACK_IN_PROGRESS') {
          callsBeforeRollback = proton.calls.length;
        }
      };

      const creation = await cfn.createStack();

      // THEN the Create failed with the service as physical id, and the rollback's Delete reached the handler
      expect(creation.stackStatus).toBe('ROLLBACK_COMPLETE');
      const [create, rollback] = creation.requests;
      expect(create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
      expect(rollback.request).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: SERVICE });
      expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE });
      expect(stepsOf(rollback)).toEqual(['delete', 'answered']);
      expect(proton.calls.length).toBe(callsBeforeRollback);
    });
  });
});

describe('two instances in one stack', () => {
  test('share one provider; each cancels its own service, and the shared role may touch exactly those', async () => {
    await onStack('Pair', async ({ proton, cfn, protonCalls }) => {
      // GIVEN two services of the stack, and a third one that is not
      proton.addService('orders', QUICK);
      proton.addService('billing', { pipeline: { ...QUICK.pipeline, cancelTakes: 45 } });
      proton.addService('payroll', SCENARIOS['in-progress']);

      // THEN one provider serves both resources, and its policies name exactly their services
      const ids = cfn.customResourceIds;
      expect(ids).toHaveLength(2);
      const tokens = new Set(ids.map((id) => JSON.stringify(cfn.template.Resources[id].Properties?.ServiceToken)));
      expect(tokens.size).toBe(1);
      expect(Object.values(cfn.template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
      // The Proton permissions are the IsComplete function's role's alone; OnEvent's role has none.
      expect(cfn.protonPermissions()).toEqual(expect.arrayContaining([{ accessKeyId: protonRoleKey(cfn), serviceNames: ['billing', 'orders'] }]));
      expect(cfn.protonPermissions().filter((p) => p.serviceNames.length > 0)).toHaveLength(1);

      // WHEN the stack is created (CloudFormation creates the two at once)
      const [creation, calls] = await protonCalls(() => cfn.createStack());

      // THEN each resource cancelled its own service
      expect(creation.stackStatus).toBe('CREATE_COMPLETE');
      const byService = Object.fromEntries(creation.requests.map((r) => [r.request.ResourceProperties.ServiceName, r]));
      for (const [name, seconds] of [['orders', 30], ['billing', 45]] as const) {
        expect(byService[name].response).toMatchObject({
          Status: 'SUCCESS',
          PhysicalResourceId: name,
          Data: { DeploymentStatus: 'CANCELLED', PipelineArn: `${proton.serviceArn(name)}/pipeline` },
        });
        // Concurrent waits do not add up on the emulated clock.
        expect(byService[name].elapsedSeconds).toBe(seconds);
      }
      expect(about(calls).sort()).toEqual(['billing', 'orders']);
      expect(proton.status('payroll')).toBe('IN_PROGRESS');

      // AND a request naming a service outside the stack is denied by the role's policies
      const outside = await cfn.sendRequest('Create', ids[0], { ServiceName: 'payroll' });
      expect(outside.response.Status).toBe('FAILED');
      expect(outside.response.Reason).toMatch(/^Access denied to proton:GetService on Proton service 'payroll' in us-east-1/);
      expect(proton.status('payroll')).toBe('IN_PROGRESS');
    });
    // The denial is retried for 60 s in real time before it fails.
  }, 120_000);

  // Many services spill over into managed policies: CloudFormation must not run a resource's
  // request before the policy that allows its service exists.
  test('every resource is ordered after the policy that allows its service, however many services', async () => {
    await withDeployment(version('v1'), 'Many', async ({ cfn }) => {
      const unordered = cfn.customResourceIds.filter((id) => {
        const serviceName = String(cfn.template.Resources[id].Properties?.ServiceName);
        return !cfn.protonPermissions({ before: id }).some((p) => p.serviceNames.includes(serviceName));
      });
      expect(unordered).toEqual([]);
    });
  });
});
