/** What a load driver has done so far: the numbers a progress line shows. */
export interface LoadCounts {
  /** Requests the plan holds. */
  planned: number;
  /** Requests sent so far (the k6 driver reports a request once it is answered or timed out). */
  sent: number;
  /** Requests answered with no response or a status >= 400 so far. */
  failed: number;
}

/** How a driver reports progress while it runs (about every second). */
export type OnLoadProgress = (counts: LoadCounts) => void;
