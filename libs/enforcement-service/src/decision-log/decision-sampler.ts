import type { Decision } from '@el/domain';

/**
 * Which decisions go to the decision log: every denial, and allowed ones at
 * `allowRate` (0: none, 1: every one). The random source is injected so a test
 * decides which draws keep a decision.
 */
export class DecisionSampler {
  constructor(
    readonly allowRate: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(allowRate >= 0 && allowRate <= 1)) throw new RangeError(`allowRate must be from 0 to 1, not ${allowRate}`);
  }

  keeps(decision: Pick<Decision, 'allowed'>): boolean {
    if (!decision.allowed) return true;
    if (this.allowRate === 0) return false;
    if (this.allowRate === 1) return true;
    return this.random() < this.allowRate;
  }
}
