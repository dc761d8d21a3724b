import type { MeshConfig } from "../../../harness/config/mesh-config";
import { meshPlan, plannedListen } from "../../../harness/mesh/link-plan";

/** A mesh its owner starts: two services and the link between them, no proxy of its own. */
function attached(listen?: string): MeshConfig {
  return {
    name: "shop",
    services: {
      web: { role: "edge", protocol: "http", url: "http://127.0.0.1:8080" },
      cart: { protocol: "grpc" },
    },
    links: {
      "web-cart": {
        from: "web",
        to: "cart",
        protocol: "grpc",
        address: "127.0.0.1:9090",
        ...(listen ? { listen } : {}),
      },
    },
    routes: {
      "GET /": { request: { method: "GET", path: "/" }, hops: [{ from: "web", to: "cart", protocol: "grpc" }] },
    },
    traces: { jaegerQueryUrl: "http://127.0.0.1:16686" },
    prometheus: { url: "http://127.0.0.1:9091", job: "shop" },
  };
}

describe("npm run mesh:plan", () => {
  test("names, per link, where the caller must point and where meshproof forwards, the same on every run", () => {
    const config = attached();
    const listen = plannedListen(config, "web-cart", config.links!["web-cart"]!);
    expect(listen).toMatch(/^127\.0\.0\.1:2[4-7]\d\d\d$/);
    expect(plannedListen(attached(), "web-cart", attached().links!["web-cart"]!)).toBe(listen);
    expect(meshPlan(config)).toContain(
      `web-cart                 point web's address of cart at ${listen}  (meshproof forwards to 127.0.0.1:9090)`,
    );
    expect(plannedListen({ ...config, name: "other" }, "web-cart", config.links!["web-cart"]!)).not.toBe(listen);
  });

  test("a link's own listen address is kept; a mesh meshproof launches needs nothing started", () => {
    expect(meshPlan(attached("127.0.0.1:7000"))).toContain("at 127.0.0.1:7000");
    const launched = attached();
    for (const s of Object.values(launched.services)) s.launch = { command: ["true"] };
    expect(meshPlan(launched)).toContain("meshproof launches every service");
  });
});
