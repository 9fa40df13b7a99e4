import { firstStep, formatDuration, isFinal, isKnownStatus, STATUS_MODEL, truncate } from '../lambda/decide';
import { loadModel } from './proton-model';

describe('the status model against AWS\'s published Proton model', () => {
  // As the installed botocore ships it (Debian's python3-botocore, installed by .ci/run, or pip's).
  const model = loadModel();
  const published = [...model.shapes.DeploymentStatus.enum ?? []];

  test('classifies every published deployment status on purpose, and no other', () => {
    expect(published.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(STATUS_MODEL).sort()).toEqual([...published].sort());
    expect(published.every(isKnownStatus)).toBe(true);
  });

  test.each([
    ['IN_PROGRESS', 'cancel', false],
    ['CANCELLING', 'wait', false],
    ['DELETE_IN_PROGRESS', 'nothing-to-cancel', false],
    ['SUCCEEDED', 'nothing-to-cancel', true],
    ['FAILED', 'nothing-to-cancel', true],
    ['CANCELLED', 'nothing-to-cancel', true],
    ['DELETE_COMPLETE', 'nothing-to-cancel', true],
    ['DELETE_FAILED', 'nothing-to-cancel', true],
  ])('%s: first step %s, final %s', (status, step, final) => {
    expect(published).toContain(status);
    expect(firstStep(status)).toBe(step);
    expect(isFinal(status)).toBe(final);
  });

  test('a status outside the model is never cancelled and ends the wait (never a hang)', () => {
    for (const status of ['PAUSED', '', 'in_progress', 'constructor', 'toString', '__proto__']) {
      expect(isKnownStatus(status)).toBe(false);
      expect(firstStep(status)).toBe('nothing-to-cancel');
      expect(isFinal(status)).toBe(true);
    }
  });
});

describe('truncate', () => {
  test('keeps text that fits, up to exactly the budget', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('a'.repeat(10), 10)).toBe('a'.repeat(10));
  });

  test('cuts ASCII text to the budget, ellipsis included', () => {
    const cut = truncate('a'.repeat(100), 10);
    expect(cut).toBe('a'.repeat(7) + '…');
    expect(Buffer.byteLength(cut)).toBe(10);
  });

  test('counts JSON escapes and UTF-8 bytes, and never splits a character', () => {
    const text = '"😀é\u0001'.repeat(50);
    const jsonBytes = (value: string) => Buffer.byteLength(JSON.stringify(value)) - 2;

    const cut = truncate(text, 40);

    expect(jsonBytes(cut)).toBeLessThanOrEqual(40);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(cut.endsWith('…')).toBe(true);
    // The longest prefix that fits: one more character would not.
    const kept = Array.from(cut.slice(0, -1));
    expect(text.startsWith(kept.join(''))).toBe(true);
    expect(jsonBytes(Array.from(text).slice(0, kept.length + 1).join('') + '…')).toBeGreaterThan(40);
  });
});

describe('formatDuration', () => {
  test.each([[59, '59s'], [60, '1m 0s'], [1_800.4, '30m 0s'], [3_599, '59m 59s']])('%d seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
