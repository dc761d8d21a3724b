import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import client from "prom-client";
import { KNOWN_DEFECTS } from "../../../harness/mesh/mesh";
import { createRng } from "../../../harness/util/rng";
import { DEFECT_NAMES, HttpApp, HttpError, listenHttp, seededRandom } from "../../../services/lib";
import { EVENT_LOOP_UTILIZATION, KIT_METRICS } from "../../../services/lib/metric-names";
import { ELU_SAMPLE_MS } from "../../../services/lib/metrics";
import { baseUrl, makeKit, sample, shutdown } from "./kit-fixtures";

const RED = [
  KIT_METRICS.httpServerRequests.name,
  KIT_METRICS.grpcServerHandled.name,
  KIT_METRICS.grpcClientHandled.name,
  KIT_METRICS.httpClientRequests.name,
];
const RUNTIME = ["nodejs_heap_size_used_bytes", EVENT_LOOP_UTILIZATION];

describe("the environment contract between harness and services", () => {
  test("the harness knows exactly the defects the services accept", () => {
    expect([...KNOWN_DEFECTS].sort()).toEqual([...DEFECT_NAMES].sort());
  });

  test("the harness and the services draw the same seeded sequence", () => {
    const harness = createRng(42);
    const services = seededRandom(42);
    expect(Array.from({ length: 5 }, () => harness.next())).toEqual(Array.from({ length: 5 }, () => services()));
  });
});

async function served(defects: Parameters<typeof makeKit>[0]) {
  const kit = makeKit(defects);
  const app = new HttpApp(kit)
    .route("get", "/ok", [200, 503], async (_req, res) => void res.json({ ok: true }))
    .route("get", "/fail", [200, 503], async () => {
      throw new HttpError(503, "down");
    });
  const url = baseUrl(await listenHttp(kit, app.finish(), 0));
  return { kit, url };
}

describe("defects change exactly what they claim", () => {
  test("status-label-200: a 503 is answered as 503 but counted as 200", async () => {
    for (const defects of [[], ["status-label-200"]] as const) {
      const { kit, url } = await served([...defects]);
      try {
        expect((await fetch(`${url}/fail`)).status).toBe(503);
        expect((await fetch(`${url}/ok`)).status).toBe(200);
        const on = defects.length > 0;
        expect(await sample(kit, `http_server_requests_total{method="GET",route="/fail",status_code="503"}`)).toBe(
          on ? 0 : 1,
        );
        expect(await sample(kit, `http_server_requests_total{method="GET",route="/fail",status_code="200"}`)).toBe(
          on ? 1 : 0,
        );
        expect(await sample(kit, `http_server_requests_total{method="GET",route="/ok",status_code="200"}`)).toBe(1);
      } finally {
        await shutdown(kit);
      }
    }
  });

  test("no-runtime-metrics: runtime series go, RED series stay", async () => {
    for (const defects of [[], ["no-runtime-metrics"]] as const) {
      const kit = makeKit([...defects]);
      try {
        const text = await kit.metrics.registry.metrics();
        const on = defects.length > 0;
        for (const name of RUNTIME)
          expect({ name, present: text.includes(`\n${name} `) }).toEqual({ name, present: !on });
        for (const name of RED)
          expect({ name, declared: text.includes(`# TYPE ${name.replace(/_total$/, "")} counter`) }).toEqual({
            name,
            declared: true,
          });
      } finally {
        await shutdown(kit);
      }
    }
  });

  test("elu-frozen: the utilisation gauge never moves; the kit's moves once a second, whatever reads it", async () => {
    for (const frozen of [false, true]) {
      const kit = makeKit(frozen ? ["elu-frozen"] : []);
      try {
        const atStart = await sample(kit, EVENT_LOOP_UTILIZATION);
        // Busy longer than a sampling interval: the sample due inside it runs right after, over a mostly busy window.
        const busyUntil = performance.now() + 1.2 * ELU_SAMPLE_MS;
        while (performance.now() < busyUntil);
        await sleep(20);
        const afterBusy = await sample(kit, EVENT_LOOP_UTILIZATION);
        const readAgain = await sample(kit, EVENT_LOOP_UTILIZATION);
        if (frozen) expect([afterBusy, readAgain]).toEqual([atStart, atStart]);
        else {
          expect(afterBusy).toBeGreaterThanOrEqual(0.5);
          // A read does not start a new window: a second reader sees what the first saw.
          expect(readAgain).toBe(afterBusy);
        }
      } finally {
        await shutdown(kit);
      }
    }
  });

  test("default-registry: RED series move to the global registry, runtime series stay on /metrics", async () => {
    const kit = makeKit(["default-registry"]);
    try {
      kit.metrics.httpServerRequests.inc({ method: "GET", route: "/x", status_code: "200" });
      const served = await kit.metrics.registry.metrics();
      for (const name of RED) expect(served).not.toContain(name.replace(/_total$/, ""));
      for (const name of RUNTIME) expect(served).toContain(`\n${name} `);
      const global = await client.register.metrics();
      expect(global).toContain('http_server_requests_total{method="GET",route="/x",status_code="200"} 1');
    } finally {
      client.register.clear();
      await shutdown(kit);
    }
  });
});
