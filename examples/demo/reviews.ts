/** A deterministic set of product reviews, generated so the demo needs no download. */
export type Review = { id: number; product: string; author: string; date: string; content: string };

const PRODUCTS = [
  'Aurora Kettle', 'Basalt Backpack', 'Cinder Desk Lamp', 'Drift Headphones', 'Ember Skillet',
  'Fjord Rain Jacket', 'Glacier Water Bottle', 'Harbor Hammock', 'Iris Smart Bulb', 'Juniper Tea Set',
  'Kestrel Drone', 'Lumen E-Reader',
];
const AUTHORS = ['ana', 'bo', 'chen', 'dara', 'eli', 'femi', 'gus', 'hana', 'ivo', 'june', 'kai', 'lea'];
const GOOD = ['great', 'love', 'excellent', 'sturdy', 'fast', 'beautiful', 'perfect', 'reliable'];
const BAD = ['broken', 'slow', 'flimsy', 'disappointing', 'noisy', 'refund', 'terrible', 'leaks'];
const FILLER = ['the', 'it', 'arrived', 'after', 'a', 'week', 'and', 'honestly', 'my', 'daily', 'use', 'so', 'far'];

/** Mulberry32: a tiny seeded PRNG, so every run generates the same reviews. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateReviews(count: number, seed = 2026): Review[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const reviews: Review[] = [];
  for (let id = 1; id <= count; id++) {
    const productIndex = Math.floor(r() * PRODUCTS.length);
    // Each product leans one way, so the ranking at the end has a clear top and bottom.
    const lean = (productIndex / (PRODUCTS.length - 1)) * 0.8 + 0.1;
    const words: string[] = [];
    for (let w = 0; w < 8 + Math.floor(r() * 8); w++) {
      const x = r();
      words.push(x < 0.2 ? pick(r() < lean ? BAD : GOOD) : pick(FILLER));
    }
    const day = 1 + Math.floor(r() * 28);
    reviews.push({
      id,
      product: PRODUCTS[productIndex]!,
      author: pick(AUTHORS),
      date: `2026-10-${String(day).padStart(2, '0')}`,
      content: words.join(' '),
    });
  }
  return reviews;
}

/** The "small rule": +1 per positive word, -1 per negative word, scaled to [-1, 1]. */
export function sentiment(text: string): number {
  let score = 0;
  let hits = 0;
  for (const word of text.toLowerCase().split(/\W+/)) {
    if (GOOD.includes(word)) (score++, hits++);
    else if (BAD.includes(word)) (score--, hits++);
  }
  return hits === 0 ? 0 : score / hits;
}
