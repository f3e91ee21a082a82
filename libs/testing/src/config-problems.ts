/**
 * The problems a configuration read reports (a ConfigError's `problems`); fails the test if it
 * reports none or throws something else. Matched by shape: @el/testing does not depend on @el/platform.
 */
export function configProblemsOf(fn: () => unknown): readonly { variable: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    if ((err as Error)?.name === 'ConfigError' && Array.isArray(problems)) return problems as { variable: string; message: string }[];
    throw err;
  }
  throw new Error('expected a ConfigError');
}
