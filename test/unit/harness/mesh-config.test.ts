import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadMeshConfig, type MeshConfig } from "../../../harness/config/mesh-config";

/** A mesh the user started: one edge service, one route; `headers` on the route's request. */
function configWith(headers: Record<string, string>): MeshConfig {
  return {
    name: "shop",
    services: { web: { role: "edge", protocol: "http", url: "http://127.0.0.1:8080" } },
    routes: {
      "GET /": { request: { method: "GET", path: "/", headers }, hops: [{ from: "web", to: "web", protocol: "http" }] },
    },
    traces: { jaegerQueryUrl: "http://127.0.0.1:16686" },
    prometheus: { url: "http://127.0.0.1:9090", job: "shop" },
  } as MeshConfig;
}

function load(config: MeshConfig): MeshConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-config-"));
  const file = path.join(dir, "meshproof.config.json");
  fs.writeFileSync(file, JSON.stringify(config));
  try {
    return loadMeshConfig(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("a route's request headers in a mesh config", () => {
  test("are kept as given", () => {
    const headers = { authorization: "Bearer t0k3n", "x-tenant": '"><img src=x>' };
    expect(load(configWith(headers)).routes["GET /"]!.request.headers).toEqual(headers);
  });

  test("may not name a header the driver sets, in any case", () => {
    expect(() => load(configWith({ "X-Request-ID": "fixed" }))).toThrow(
      /routes\.GET \/\.request\.headers\.X-Request-ID: is set by the driver \(traceparent, x-request-id/,
    );
    expect(() => load(configWith({ Traceparent: "00-1-2-01" }))).toThrow(/is set by the driver/);
  });

  test("must be HTTP tokens with values free of control characters", () => {
    expect(() => load(configWith({ "bad name": "v" }))).toThrow(/a header name is an HTTP token/);
    expect(() => load(configWith({ "x-split": "a\r\nx-injected: 1" }))).toThrow(/no control character/);
  });
});
