import { HttpApp, HttpError, listenHttp } from "../../../services/lib";
import { baseUrl, makeKit, sample, shutdown } from "./kit-fixtures";

async function serve(defects: Parameters<typeof makeKit>[0] = []) {
  const kit = makeKit(defects);
  const app = new HttpApp(kit)
    .route("post", "/ok", [201, 500], async (_req, res) => void res.status(201).json({ ok: true }))
    .route("post", "/declined", [402], async () => {
      throw new HttpError(402, "card declined");
    })
    .route("get", "/items/:id", [200, 503], async () => {
      throw new HttpError(503, "redis down");
    })
    .route("get", "/boom", [500], async () => {
      throw new Error("bug");
    });
  const server = await listenHttp(kit, app.finish(), 0);
  return { kit, url: baseUrl(server) };
}

describe("HTTP middleware", () => {
  test("labels method, route template and status for success, business error and infrastructure error", async () => {
    const { kit, url } = await serve();
    try {
      expect((await fetch(`${url}/ok`, { method: "POST" })).status).toBe(201);
      expect((await fetch(`${url}/declined`, { method: "POST" })).status).toBe(402);
      const infra = await fetch(`${url}/items/42`, { headers: { "x-request-id": "abc-1" } });
      expect(infra.status).toBe(503);
      expect(infra.headers.get("x-request-id")).toBe("abc-1");
      expect(await infra.json()).toEqual({ error: "redis down", requestId: "abc-1" });
      expect((await fetch(`${url}/boom`)).status).toBe(500);
      expect((await fetch(`${url}/nope/123`)).status).toBe(404);

      const c = "http_server_requests_total";
      expect(await sample(kit, `${c}{method="POST",route="/ok",status_code="201"}`)).toBe(1);
      expect(await sample(kit, `${c}{method="POST",route="/ok",status_code="500"}`)).toBe(0);
      expect(await sample(kit, `${c}{method="POST",route="/declined",status_code="402"}`)).toBe(1);
      expect(await sample(kit, `${c}{method="GET",route="/items/:id",status_code="503"}`)).toBe(1);
      expect(await sample(kit, `${c}{method="GET",route="/items/:id",status_code="200"}`)).toBe(0);
      expect(await sample(kit, `${c}{method="GET",route="/boom",status_code="500"}`)).toBe(1);
      expect(await sample(kit, `${c}{method="GET",route="unmatched",status_code="404"}`)).toBe(1);
      expect(
        await sample(
          kit,
          `http_server_request_duration_seconds_count{method="GET",route="/items/:id",status_code="503"}`,
        ),
      ).toBe(1);
      // Probe and metrics endpoints are not measured.
      await fetch(`${url}/healthz`);
      await fetch(`${url}/metrics`);
      const text = await kit.metrics.registry.metrics();
      expect(text).not.toContain('route="/healthz"');
      expect(text).not.toContain('route="/metrics"');
    } finally {
      await shutdown(kit);
    }
  });

  test("error and latency faults are applied to their route only, counted, and reproducible from the seed", async () => {
    const decisions = async () => {
      const { kit, url } = await serve();
      try {
        kit.faults.add({ kind: "error", target: "POST /ok", rate: 0.5, status: 503 });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await fetch(`${url}/ok`, { method: "POST" })).status);
        expect((await fetch(`${url}/declined`, { method: "POST" })).status).toBe(402);
        const failed = statuses.filter((s) => s === 503).length;
        expect(await sample(kit, `meshproof_faults_injected_total{kind="error",target="POST /ok"}`)).toBe(failed);
        expect(await sample(kit, `http_server_requests_total{method="POST",route="/ok",status_code="503"}`)).toBe(
          failed,
        );

        kit.faults.clear();
        kit.faults.add({ kind: "latency", target: "POST /ok", ms: 150 });
        const started = performance.now();
        expect((await fetch(`${url}/ok`, { method: "POST" })).status).toBe(201);
        expect(performance.now() - started).toBeGreaterThanOrEqual(140);
        expect(await sample(kit, `meshproof_faults_injected_total{kind="latency",target="POST /ok"}`)).toBe(1);
        return statuses;
      } finally {
        await shutdown(kit);
      }
    };
    const first = await decisions();
    expect(first).toContain(503);
    expect(first).toContain(201);
    expect(await decisions()).toEqual(first);
  });
});
