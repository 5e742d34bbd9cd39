/**
 * Alternating pairs, how the benchmarks compare millrace with a raw SDK: both sides back to back in
 * each pair, each going first in every other pair, so the machine's drift between pairs cancels out
 * of each pair's ratio (the median of those ratios is the figure the benchmarks report).
 */

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export type PairTimes<W extends string> = { ms: Record<W, number[]>; cpuMs: Record<W, number[]> };

/**
 * `pairs` pairs of `run(who, pair)` for both sides, `first` first in even pairs; wall and process CPU
 * milliseconds per side, pair by pair. `afterPair` runs untimed after each pair (checks, cleanup, a line).
 */
export async function alternatingPairs<W extends string>(
  pairs: number,
  [first, second]: readonly [W, W],
  run: (who: W, pair: number) => Promise<unknown>,
  afterPair: (pair: number, ms: Record<W, number>) => unknown = () => {},
): Promise<PairTimes<W>> {
  const t = { ms: { [first]: [], [second]: [] }, cpuMs: { [first]: [], [second]: [] } } as unknown as PairTimes<W>;
  for (let p = 0; p < pairs; p++) {
    for (const who of p % 2 === 0 ? [first, second] : [second, first]) {
      const cpu = process.cpuUsage();
      t.ms[who].push(await time(() => run(who, p)));
      const used = process.cpuUsage(cpu);
      t.cpuMs[who].push((used.user + used.system) / 1000);
    }
    await afterPair(p, { [first]: t.ms[first][p]!, [second]: t.ms[second][p]! } as Record<W, number>);
  }
  return t;
}
