/**
 * Runs a local Proton endpoint by hand:
 *
 *   npx tsx local/proton/cli.ts --port 4566 --scenario in-progress [--service demo] [--time-scale 100]
 *
 * Prints the endpoint and how to point the AWS CLI or SDK at it; stops on Ctrl-C.
 */
import { parseArgs } from 'util';
import { LocalProton, SCENARIOS, ScenarioName } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'port': { type: 'string', default: '0' },
      'scenario': { type: 'string', default: 'in-progress' },
      'service': { type: 'string', default: 'demo' },
      'time-scale': { type: 'string', default: '1' },
    },
  });
  const scenario = values.scenario as string;
  if (!(scenario in SCENARIOS)) {
    throw new Error(`unknown scenario '${scenario}'; one of: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const proton = await LocalProton.start({ port: Number(values.port), timeScale: Number(values['time-scale']) });
  const service = values.service as string;
  proton.addService(service, SCENARIOS[scenario as ScenarioName]);
  console.log(`Local Proton listening on ${proton.endpoint} (region ${proton.region}), service '${service}': ${scenario}`);
  console.log(`  AWS_ENDPOINT_URL_PROTON=${proton.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \\`);
  console.log(`    aws proton get-service --region ${proton.region} --name ${service}`);

  const stop = (): void => {
    proton.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
