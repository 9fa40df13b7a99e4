import { runLoad, synthLoadStack, removeLoadStack } from './load';
async function main() {
  const [n, g, c, l] = process.argv.slice(2).map(Number);
  const t = performance.now();
  const dir = synthLoadStack(n);
  console.error('synth', (performance.now() - t) / 1000);
  const r = await runLoad(dir, { instances: n, getServicePerSecond: g, cancelPerSecond: c, lambdaConcurrency: l });
  console.log(JSON.stringify(r, null, 1));
  removeLoadStack(dir);
}
main().catch((e) => { console.error(e); process.exit(1); });
