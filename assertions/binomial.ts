/**
 * The confidence of every binomial interval the judge draws: a correct mesh falls outside one by chance once in 1,000.
 * A catalog run draws four (payments-errors' effect and metrics.error-rate, the sampling scenario's root share, and
 * its histogram buckets against a sample of their calls, one for all of them): a false failure about once in 250
 * catalog runs. Counters, traces and the driver are compared exactly besides, so these intervals only judge the
 * fault injector's rate and a random sample. A mesh config may set another for metrics.error-rate.
 */
export const BINOMIAL_CONFIDENCE = 0.999;

/**
 * Two-sided acceptance interval of a Binomial(n, p) count at a confidence level: the smallest [low, high] with
 * P(X < low) <= alpha/2 and P(X > high) <= alpha/2 (alpha = 1 - confidence). Exact (summed pmf), so it holds for
 * the small samples of a fault window, where the normal approximation does not.
 */
export function binomialAcceptance(n: number, p: number, confidence: number): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 0 };
  if (p <= 0) return { low: 0, high: 0 };
  if (p >= 1) return { low: n, high: n };
  // pmf in log space: C(n,k) p^k (1-p)^(n-k) underflows for large n.
  const [logP, logQ] = [Math.log(p), Math.log1p(-p)];
  const pmf = Array.from({ length: n + 1 }, (_, k) => Math.exp(logChoose(n, k) + k * logP + (n - k) * logQ));
  return acceptance(pmf, confidence);
}

/**
 * The same interval for the successes among `draws` drawn without replacement from a population of `size` holding
 * `successes` (hypergeometric): what a random sample of a run's calls shows of a share the calls have.
 */
export function hypergeometricAcceptance(
  size: number,
  successes: number,
  draws: number,
  confidence: number,
): { low: number; high: number } {
  const [lowest, highest] = [Math.max(0, draws - (size - successes)), Math.min(draws, successes)];
  const pmf = Array.from({ length: draws + 1 }, (_, k) =>
    k < lowest || k > highest
      ? 0
      : Math.exp(logChoose(successes, k) + logChoose(size - successes, draws - k) - logChoose(size, draws)),
  );
  return acceptance(pmf, confidence);
}

/**
 * Every count of successes in a population of `size` that a random sample of `draws` showing `low`..`high` of them
 * is consistent with: those whose hypergeometric acceptance interval meets [low, high]. The interval's ends never
 * fall as the successes grow, so each end of the range is a binary search.
 */
export function populationRange(
  size: number,
  draws: number,
  seen: { low: number; high: number },
  confidence: number,
): { low: number; high: number } {
  const interval = (successes: number) => hypergeometricAcceptance(size, successes, draws, confidence);
  let [low, top] = [0, size];
  while (low < top) {
    const mid = Math.floor((low + top) / 2);
    if (interval(mid).high >= seen.low) top = mid;
    else low = mid + 1;
  }
  let [bottom, high] = [0, size];
  while (bottom < high) {
    const mid = Math.ceil((bottom + high) / 2);
    if (interval(mid).low <= seen.high) bottom = mid;
    else high = mid - 1;
  }
  return { low, high };
}

/** The smallest [low, high] with P(X < low) <= alpha/2 and P(X > high) <= alpha/2 over a pmf on 0..n. */
function acceptance(pmf: number[], confidence: number): { low: number; high: number } {
  const tail = (1 - confidence) / 2;
  const n = pmf.length - 1;
  let low = 0;
  for (let below = 0; low < n && below + pmf[low]! <= tail; low++) below += pmf[low]!;
  let high = n;
  for (let above = 0; high > 0 && above + pmf[high]! <= tail; high--) above += pmf[high]!;
  return { low, high };
}

/** log(k!), the table grown on demand. */
const LOG_FACTORIALS = [0];
function logChoose(n: number, k: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1]! + Math.log(i));
  return LOG_FACTORIALS[n]! - LOG_FACTORIALS[k]! - LOG_FACTORIALS[n - k]!;
}
