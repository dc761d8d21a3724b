/**
 * The confidence of every binomial interval the judge draws: a correct mesh falls outside one by chance once in 1,000.
 * A catalog run draws three (payments-errors' effect and metrics.error-rate, the sampling scenario's root share):
 * a false failure about once in 330 catalog runs. Counters, traces and the driver are compared exactly besides, so
 * this interval only judges the fault injector's rate. A mesh config may set another for metrics.error-rate.
 */
export const BINOMIAL_CONFIDENCE = 0.999;

/**
 * Two-sided acceptance interval of a Binomial(n, p) count at a confidence level: the smallest [low, high] with
 * P(X < low) <= alpha/2 and P(X > high) <= alpha/2 (alpha = 1 - confidence). Exact (summed pmf), so it holds for
 * the small samples of a fault window, where the normal approximation does not.
 */
export function binomialAcceptance(n: number, p: number, confidence: number): { low: number; high: number } {
  const tail = (1 - confidence) / 2;
  if (n === 0) return { low: 0, high: 0 };
  if (p <= 0) return { low: 0, high: 0 };
  if (p >= 1) return { low: n, high: n };
  // pmf in log space: C(n,k) p^k (1-p)^(n-k) underflows for large n.
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  const pmf: number[] = [];
  let logC = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    pmf.push(Math.exp(logC + k * logP + (n - k) * logQ));
  }
  let low = 0;
  for (let below = 0; low < n && below + pmf[low]! <= tail; low++) below += pmf[low]!;
  let high = n;
  for (let above = 0; high > 0 && above + pmf[high]! <= tail; high--) above += pmf[high]!;
  return { low, high };
}
