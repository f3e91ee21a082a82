/**
 * given / when / then for pure deciders:
 *
 *   spec.given([granted]).when(suspend).then([suspended])
 *   spec.given([revoked]).when(suspend).thenRejects('ENTITLEMENT.ALREADY_REVOKED')
 *
 * `thenRejects` asserts both that the command was refused with the code and
 * that no event was produced.
 */
export interface Decider<C, S, E> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

export interface Outcome<E> {
  then(expected: readonly E[] | ((events: readonly E[]) => void)): void;
  thenNothing(): void;
  thenRejects(code: string, details?: Record<string, unknown>): void;
}

export function deciderSpec<C, S, E>(decider: Decider<C, S, E>) {
  return {
    given(history: readonly E[]) {
      return {
        when(command: C): Outcome<E> {
          const state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState());
          let produced: E[] | undefined;
          let error: unknown;
          try {
            produced = decider.decide(command, state);
          } catch (e) {
            error = e;
          }
          const events = (): readonly E[] => {
            if (error !== undefined) throw new Error(`expected events but the command was rejected: ${describeError(error)}`);
            return produced!;
          };
          return {
            then(expected) {
              const got = events();
              if (typeof expected === 'function') expected(got);
              else expect(got).toEqual(expected);
              // Every produced event must also be applicable to the state.
              got.reduce((s, e) => decider.evolve(s, e), state);
            },
            thenNothing() {
              expect(events()).toEqual([]);
            },
            thenRejects(code, details) {
              expect(produced).toBeUndefined();
              expect(error).toBeDefined();
              expect((error as { code?: string }).code).toBe(code);
              if (details) expect((error as { details?: unknown }).details).toMatchObject(details);
            },
          };
        },
      };
    },
  };
}

function describeError(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) return `${String((e as { code: unknown }).code)}: ${String((e as { message?: unknown }).message)}`;
  return e instanceof Error ? e.message : String(e);
}
