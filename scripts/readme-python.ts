// Writes the README's Python example from jsii-rosetta's translation of the
// first TypeScript example, so it is never written by hand.
// Run after `jsii-rosetta extract` (npm run build does both).
import { readFileSync, writeFileSync } from 'fs';
import { pythonOfFirstExample, replacePythonBlock } from './readme-examples';

const readme = readFileSync('README.md', 'utf8');
const updated = replacePythonBlock(readme, pythonOfFirstExample(readme));
if (updated !== readme) {
  writeFileSync('README.md', updated);
  console.log('README.md: Python example updated from the rosetta translation');
}
