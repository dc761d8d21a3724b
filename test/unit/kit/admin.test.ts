import { FaultRegistry, startAdminServer } from "../../../services/lib";

const TOKEN = "t".repeat(32);
const ROUTES: [string, string][] = [
  ["GET", "/admin/faults"],
  ["POST", "/admin/faults"],
  ["DELETE", "/admin/faults"],
  ["DELETE", "/admin/faults/f1"],
  ["POST", "/admin/flush"],
  ["GET", "/admin/telemetry"],
  ["GET", "/admin/unknown"],
];

describe("admin API", () => {
  test("every route answers 401 without a token or with a wrong one, and works with the right one", async () => {
    const faults = new FaultRegistry(1);
    let flushed = 0;
    const admin = await startAdminServer({
      port: 0,
      token: TOKEN,
      faults,
      flush: async () => void flushed++,
      telemetry: () => ({ spans: { started: 0 } }),
      finalMetrics: async () => "",
    });
    const url = `http://127.0.0.1:${admin.port}`;
    const body = JSON.stringify({ kind: "error", target: "*", rate: 1, status: 500 });
    try {
      for (const [method, route] of ROUTES) {
        for (const authorization of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, TOKEN]) {
          const response = await fetch(`${url}${route}`, {
            method,
            headers: authorization
              ? { authorization, "content-type": "application/json" }
              : { "content-type": "application/json" },
            body: method === "POST" ? body : undefined,
          });
          expect({ method, route, authorization, status: response.status }).toEqual({
            method,
            route,
            authorization,
            status: 401,
          });
        }
      }
      expect(faults.size).toBe(0);
      expect(flushed).toBe(0);

      const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const added = await fetch(`${url}/admin/faults`, { method: "POST", headers: auth, body });
      expect(added.status).toBe(201);
      expect(await added.json()).toMatchObject({ id: "f1", kind: "error", rate: 1 });
      expect(await (await fetch(`${url}/admin/faults`, { headers: auth })).json()).toMatchObject({
        faults: [{ id: "f1" }],
      });
      const bad = await fetch(`${url}/admin/faults`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ kind: "error", rate: 2 }),
      });
      expect(bad.status).toBe(400);
      expect((await fetch(`${url}/admin/faults/f1`, { method: "DELETE", headers: auth })).status).toBe(200);
      expect((await fetch(`${url}/admin/faults/f1`, { method: "DELETE", headers: auth })).status).toBe(404);
      expect((await fetch(`${url}/admin/faults`, { method: "DELETE", headers: auth })).status).toBe(200);
      expect((await fetch(`${url}/admin/flush`, { method: "POST", headers: auth })).status).toBe(200);
      expect(flushed).toBe(1);
    } finally {
      await admin.close();
    }
  });
});
