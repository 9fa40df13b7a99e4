// Reads the README's examples and their jsii-rosetta translations (.jsii.tabl.json).
// The README writes each example once, in TypeScript: jsii-pacmak puts rosetta's translation
// of it into the Python, Java, C# and Go packages' READMEs.
import { readFileSync } from 'fs';

interface Tablet {
  snippets: Record<string, { translations: Record<string, { source: string }> }>;
}

/** The TypeScript code blocks of a markdown text. */
export function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map(match => match[1].trimEnd());
}

/** The languages named by the code fences of a markdown text (`ts`, `sh`, ...), one per block. */
export function fenceLanguages(markdown: string): string[] {
  return [...markdown.matchAll(/^ *```(\w+)\n/gm)].map(match => match[1]);
}

/** rosetta's translation into `language` (python, java, csharp, go) of each TypeScript example, in order. */
export function translationsOf(markdown: string, language: string, tabletFile = '.jsii.tabl.json'): string[] {
  const tablet: Tablet = JSON.parse(readFileSync(tabletFile, 'utf8'));
  return typescriptBlocks(markdown).map((source, index) => {
    const snippet = Object.values(tablet.snippets).find(s => s.translations.$.source.trimEnd() === source);
    const translation = snippet?.translations[language]?.source;
    if (translation === undefined) {
      throw new Error(`${tabletFile} has no ${language} translation of the README's example ${index + 1}: run jsii-rosetta extract`);
    }
    return translation.trimEnd();
  });
}
