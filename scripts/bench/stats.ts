/** Small numeric helpers shared by the benchmark sections. */

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new Error('median of an empty list');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** 'PASS' or 'FAIL'. */
export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

/** 12,345 */
export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A number with `digits` decimals. */
export function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** 0.67x */
export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** Waits `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
