// Reads the README's examples and their jsii-rosetta translations (.jsii.tabl.json).
import { readFileSync } from 'fs';

interface Tablet {
  snippets: Record<string, { translations: Record<string, { source: string }> }>;
}

const BEGIN = '<!-- python:begin -->';
const END = '<!-- python:end -->';

/** The TypeScript code blocks of a markdown text. */
export function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map(match => match[1].trimEnd());
}

/** The Python code between the README's python markers. */
export function pythonBlock(markdown: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${BEGIN} ... ${END} section`);
  }
  return markdown.slice(start + BEGIN.length, end).replace(/^\s*```python\n/, '').replace(/```\s*$/, '').trimEnd();
}

export function replacePythonBlock(markdown: string, python: string): string {
  const start = markdown.indexOf(BEGIN) + BEGIN.length;
  return `${markdown.slice(0, start)}\n\`\`\`python\n${python}\n\`\`\`\n${markdown.slice(markdown.indexOf(END))}`;
}

/** rosetta's Python for the README's first TypeScript example. */
export function pythonOfFirstExample(markdown: string, tabletFile = '.jsii.tabl.json'): string {
  const source = typescriptBlocks(markdown)[0];
  const tablet: Tablet = JSON.parse(readFileSync(tabletFile, 'utf8'));
  const snippet = Object.values(tablet.snippets).find(s => s.translations.$.source.trimEnd() === source);
  if (!snippet) {
    throw new Error(`${tabletFile} has no translation of the README's first example: run jsii-rosetta extract`);
  }
  return snippet.translations.python.source.trimEnd();
}
