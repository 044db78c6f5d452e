// A seeded random source for the chaos plan: pure-rand's xoroshiro128+ (small, maintained, the
// generator fast-check uses), so the same seed draws the same faults and kills on every machine.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

export class SeededRandom {
  private readonly rng: RandomGenerator;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return unsafeUniformIntDistribution(min, max, this.rng);
  }

  /** True with probability p (to a millionth). */
  chance(p: number): boolean {
    return this.int(0, 999_999) < Math.round(p * 1_000_000);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** One of the items, each with its weight's share of the chances. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let ticket = this.int(1, total);
    for (const [item, weight] of items) {
      ticket -= weight;
      if (ticket <= 0) return item;
    }
    throw new Error('weighted: weights must be positive integers');
  }
}
