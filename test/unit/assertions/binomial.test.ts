import { hypergeometricAcceptance, populationRange } from "../../../assertions/binomial";

describe("the hypergeometric interval of a random sample", () => {
  test("a population holding all or none of the successes shows the same in any sample", () => {
    expect(hypergeometricAcceptance(83, 83, 36, 0.999)).toEqual({ low: 36, high: 36 });
    expect(hypergeometricAcceptance(83, 0, 36, 0.999)).toEqual({ low: 0, high: 0 });
  });

  test("its tails hold at most alpha/2 each: 3 of 83 are all missed by 36 draws 17.6% of the time", () => {
    // P(X = 0) = 47·46·45 / (83·82·81) = 0.176; P(X = 3) = 36·35·34 / (83·82·81) = 0.078: both ends stay in.
    expect(hypergeometricAcceptance(83, 3, 36, 0.999)).toEqual({ low: 0, high: 3 });
    // 40 of 83 in 36 draws: mean 17.3; the 99.9% interval stays inside the support and around the mean.
    const { low, high } = hypergeometricAcceptance(83, 40, 36, 0.999);
    expect(low).toBeGreaterThan(8);
    expect(high).toBeLessThan(27);
  });

  test("the population range is every count whose interval meets what the sample showed (binary search = scan)", () => {
    for (const [size, draws, seen] of [
      [83, 36, { low: 35, high: 36 }],
      [83, 36, { low: 10, high: 14 }],
      [57, 15, { low: -1, high: 1 }],
      [200, 7, { low: 3, high: 4 }],
    ] as const) {
      const accepted = Array.from({ length: size + 1 }, (_, k) => k).filter((k) => {
        const i = hypergeometricAcceptance(size, k, draws, 0.999);
        return i.high >= seen.low && i.low <= seen.high;
      });
      expect(populationRange(size, draws, seen, 0.999)).toEqual({ low: accepted[0], high: accepted.at(-1) });
      // A contiguous range, and one that holds the sample's own share.
      expect(accepted.length).toBe(accepted.at(-1)! - accepted[0]! + 1);
    }
  });

  test("a sample all under a bound still admits calls over it: 36 of 83 sampled, 16 of the others at most", () => {
    // At 67 under (16 over) the sample holds 35 or 36 of them with a chance above 0.0005; at 66, below it.
    expect(populationRange(83, 36, { low: 35, high: 36 }, 0.999)).toEqual({ low: 67, high: 83 });
    expect(hypergeometricAcceptance(83, 67, 36, 0.999).high).toBeGreaterThanOrEqual(35);
    expect(hypergeometricAcceptance(83, 66, 36, 0.999).high).toBeLessThan(35);
  });
});
