import type { Parameters } from 'fast-check';

/**
 * The fast-check parameters of every property and fuzz suite: a fixed seed, so
 * a run is the same on every machine and in CI, and a bounded number of runs.
 *
 * A failure prints `{ seed: …, path: "…" }` with the shrunk counterexample;
 * replay exactly that case with `FC_SEED=<seed> FC_PATH=<path>` (the path
 * skips straight to the shrunk case). `FC_SEED` alone explores other cases,
 * `FC_RUNS` changes how many.
 */
export const DEFAULT_PROPERTY_SEED = 20261214;

export function propertyParams<T>(numRuns: number, more: Parameters<T> = {}): Parameters<T> {
  const env = process.env;
  const seed = env['FC_SEED'] !== undefined ? Number(env['FC_SEED']) : DEFAULT_PROPERTY_SEED;
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${env['FC_SEED']}`);
  const runs = env['FC_RUNS'] !== undefined ? Number(env['FC_RUNS']) : numRuns;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FC_RUNS must be a positive integer, got ${env['FC_RUNS']}`);
  return {
    ...more,
    seed,
    numRuns: runs,
    ...(env['FC_PATH'] ? { path: env['FC_PATH'] } : {}),
  };
}

/**
 * `expect(actual).toEqual(expected)` with a fast path for the usual, equal case
 * (a property calls it thousands of times); on a difference, Jest's diff shows
 * `where()` too: the step, the model, the state.
 */
export function expectEqual<T>(actual: T, expected: T, where?: () => string): void {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  const at = where?.();
  expect({ at, value: actual }).toEqual({ at, value: expected });
}
