import * as fc from 'fast-check';
import { propertyProblem } from '../lambda/validate';
import { LIMITS } from '../lib/contract';

const NAME = 'my-service';

describe('propertyProblem', () => {
  test('accepts every whole timeout from 60 to 3000 seconds', () => {
    fc.assert(fc.property(fc.integer({ min: LIMITS.minTimeoutSeconds, max: LIMITS.maxTimeoutSeconds }), (seconds) =>
      propertyProblem({ ServiceName: NAME, TimeoutSeconds: String(seconds) }) === undefined));
  });

  test('refuses every whole timeout outside the range, naming timeout', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ max: LIMITS.minTimeoutSeconds - 1 }), fc.integer({ min: LIMITS.maxTimeoutSeconds + 1 })), (seconds) =>
      propertyProblem({ ServiceName: NAME, TimeoutSeconds: String(seconds) }) === `timeout must be a whole number of seconds from 60 to 3000, got '${seconds}'`));
  });

  test('refuses anything that is not whole seconds', () => {
    for (const value of ['60.5', '1e2', ' 90', '90 ', '', 'ninety', '0x40', '+90']) {
      expect(propertyProblem({ ServiceName: NAME, TimeoutSeconds: value })).toMatch(/^timeout must be/);
    }
    expect(propertyProblem({ ServiceName: NAME, TimeoutSeconds: 90 as never })).toBe('timeout must be a whole number of seconds from 60 to 3000, got 90');
  });

  test('accepts every name Proton accepts, up to 100 characters', () => {
    const first = fc.constantFrom(...'abcXYZ0189');
    const rest = fc.array(fc.constantFrom(...'aZ09-_'), { maxLength: 99 });
    fc.assert(fc.property(first, rest, (a, b) => propertyProblem({ ServiceName: a + b.join('') }) === undefined));
  });

  test('refuses names Proton refuses, naming serviceName', () => {
    for (const name of ['', '_a', '-a', 'a b', 'a.b', 'a'.repeat(101), 42, undefined]) {
      expect(propertyProblem({ ServiceName: name as never })).toMatch(/^serviceName must be 1 to 100 letters, digits, '-' or '_', starting with a letter or digit, got /);
    }
  });

  test('shows the value received, quoted and cut when long', () => {
    expect(propertyProblem({ ServiceName: 42 as never })).toMatch(/, got 42$/);
    expect(propertyProblem({} as never)).toMatch(/, got nothing$/);
    expect(propertyProblem({ ServiceName: 'it\'s' })).toMatch(/, got 'it's'$/);
    expect(propertyProblem({ ServiceName: 'a'.repeat(200) })!.endsWith(`got '${'a'.repeat(119)}…`)).toBe(true);
    // 120 characters with the quotes: shown whole; 121: cut.
    expect(propertyProblem({ ServiceName: 'a'.repeat(117) + '!' })!.endsWith(`got '${'a'.repeat(117)}!'`)).toBe(true);
    expect(propertyProblem({ ServiceName: 'a'.repeat(118) + '!' })!.endsWith(`got '${'a'.repeat(118)}!…`)).toBe(true);
  });

  test.each(['WaitForFinalStatus', 'FailIfNothingToCancel', 'FailUnlessCancelled'])('%s takes only \'true\' or \'false\'', (property) => {
    const option = property[0].toLowerCase() + property.slice(1);
    expect(propertyProblem({ ServiceName: NAME, [property]: 'true' })).toBeUndefined();
    expect(propertyProblem({ ServiceName: NAME, [property]: 'false' })).toBeUndefined();
    fc.assert(fc.property(fc.string().filter(value => value !== 'true' && value !== 'false'), (value) =>
      propertyProblem({ ServiceName: NAME, [property]: value }) === `${option} must be 'true' or 'false', got ${`'${JSON.stringify(value).slice(1, -1)}'`.slice(0, 120)}${`'${JSON.stringify(value).slice(1, -1)}'`.length > 120 ? '…' : ''}`));
  });
});
