// Zipf-distributed picks: rank k (1-based) is chosen with probability proportional to 1/k^s.
// Real link popularity looks like this (a few links take most clicks, a long tail the rest);
// s = 0 is uniform, s ≈ 1 is the classic web curve, larger s concentrates on the head.
//
// Hand-written because k6 runs its own JavaScript runtime (no npm packages at run time) and the
// jslibs have no Zipf. A cumulative table and a binary search are exact and cheap: n numbers per
// VU and ~log2(n) comparisons per pick.

/**
 * Returns a function that picks an index in [0, n) — index 0 is the most popular — with Zipf
 * exponent `exponent`. `random` is injectable so the distribution can be tested.
 */
export function zipfSampler (n, exponent, random = Math.random) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`zipf: n must be a positive integer (got ${n})`)
  if (!(exponent >= 0)) throw new Error(`zipf: exponent must be >= 0 (got ${exponent})`)
  const cumulative = new Float64Array(n)
  let total = 0
  for (let k = 1; k <= n; k++) {
    total += 1 / Math.pow(k, exponent)
    cumulative[k - 1] = total
  }
  return function pick () {
    const target = random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cumulative[mid] > target) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

function harmonic (n, exponent) {
  let total = 0
  for (let k = 1; k <= n; k++) total += 1 / Math.pow(k, exponent)
  return total
}

/** The probability of index i (0-based) under the same distribution, for tests and reports. */
export function zipfProbability (n, exponent, i) {
  return (1 / Math.pow(i + 1, exponent)) / harmonic(n, exponent)
}

/** Share of picks that land on the `top` most popular of n: what "hot" means for a given exponent. */
export function zipfHeadShare (n, exponent, top) {
  return harmonic(Math.min(top, n), exponent) / harmonic(n, exponent)
}
