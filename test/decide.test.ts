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
    const cut = truncate('"😀é\u0001'.repeat(50), 40);
    expect(Buffer.byteLength(JSON.stringify(cut)) - 2).toBeLessThanOrEqual(40);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('formatDuration', () => {
  test.each([[59, '59s'], [60, '1m 0s'], [1_800.4, '30m 0s'], [3_599, '59m 59s']])('%d seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
