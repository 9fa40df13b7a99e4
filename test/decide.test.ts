import { firstStep, formatDuration, isFinal, truncate } from '../lambda/decide';

describe('firstStep', () => {
  test.each([
    ['IN_PROGRESS', 'cancel'],
    ['CANCELLING', 'wait'],
    ['SUCCEEDED', 'nothing-to-cancel'],
    ['FAILED', 'nothing-to-cancel'],
    ['CANCELLED', 'nothing-to-cancel'],
    ['DELETE_IN_PROGRESS', 'nothing-to-cancel'],
  ])('%s -> %s', (status, step) => {
    expect(firstStep(status)).toBe(step);
  });
});

describe('isFinal', () => {
  test.each(['CANCELLED', 'FAILED', 'SUCCEEDED', 'DELETE_COMPLETE'])('%s ends the wait', (status) => {
    expect(isFinal(status)).toBe(true);
  });
  test.each(['IN_PROGRESS', 'CANCELLING'])('%s does not', (status) => {
    expect(isFinal(status)).toBe(false);
  });
});

describe('truncate', () => {
  test('keeps text that fits', () => {
    expect(truncate('short', 10)).toBe('short');
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
