/** Stable ids of the runtime family. */
export const RUNTIME_ASSERTIONS = {
  up: "runtime.up",
  heap: "runtime.heap",
  gc: "runtime.gc",
  eventLoop: "runtime.event-loop",
  goroutines: "runtime.goroutines",
  rss: "runtime.rss",
  cpu: "runtime.cpu",
  restarts: "runtime.restarts",
  resourceFaults: "runtime.resource-faults",
} as const;
