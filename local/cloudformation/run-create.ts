/**
 * Runs one stack Create through the local lifecycle, against a fresh local
 * Proton endpoint whose services have a pipeline deployment in progress, and
 * prints the outcome as one JSON line. For running the bundled handler under
 * another Node.js binary (the major of its Lambda runtime):
 *
 *   /path/to/node24 node_modules/tsx/dist/cli.mjs local/cloudformation/run-create.ts <assembly dir> <stack name>
 */
import { SCENARIOS } from '../proton';
import { withDeployment } from './fixture';

async function main(): Promise<void> {
  const [assemblyDir, stackName] = process.argv.slice(2);
  if (!assemblyDir || !stackName) {
    throw new Error('usage: run-create.ts <assembly dir> <stack name>');
  }
  await withDeployment(assemblyDir, stackName, async ({ proton, cfn }) => {
    for (const id of cfn.customResourceIds) {
      proton.addService(String(cfn.template.Resources[id].Properties?.ServiceName), SCENARIOS['in-progress']);
    }
    const operation = await cfn.createStack();
    console.log(JSON.stringify({
      node: process.versions.node,
      stackStatus: operation.stackStatus,
      responses: operation.requests.map((r) => r.response),
      protonCalls: proton.calls.map((c) => ({ operation: c.operation, status: c.status })),
    }));
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
