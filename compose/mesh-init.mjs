// @ts-check
// mesh-init: the one-shot container of docker-compose.yml that wires the mesh before its services start.
//   MESH_LINKS      "LINK=LISTEN>UPSTREAM ..." — each link a Toxiproxy proxy (toxics cleared, enabled)
//   SCRAPE_TARGETS  "SERVICE=HOST:PORT ..."    — Prometheus file_sd targets, written to TARGETS_FILE
// Idempotent: a second `up` finds proxies as declared and leaves their connections alone; one declared otherwise
// is replaced. Plain Node (the node-service image's), no dependencies, no build.
import fs from "node:fs";

const toxiproxy = process.env.TOXIPROXY_URL;
/** @param {string} name */
const words = (name) => (process.env[name] ?? "").split(/\s+/).filter(Boolean);

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function call(method, path, body) {
  const response = await fetch(`${toxiproxy}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Toxiproxy ${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function main() {
  if (!toxiproxy) throw new Error("TOXIPROXY_URL must be set");
  const existing = await call("GET", "/proxies");
  for (const link of words("MESH_LINKS")) {
    const match = /^([\w-]+)=([\w.:-]+)>([\w.:-]+)$/.exec(link);
    if (!match) throw new Error(`MESH_LINKS: "${link}" is not LINK=LISTEN>UPSTREAM`);
    const [, name, listen, upstream] = match;
    const found = existing[name];
    if (found && found.listen === listen && found.upstream === upstream) {
      for (const toxic of found.toxics ?? []) await call("DELETE", `/proxies/${name}/toxics/${toxic.name}`);
      if (!found.enabled) await call("POST", `/proxies/${name}`, { enabled: true });
      console.log(`link ${name}: ${listen} -> ${upstream} (kept)`);
      continue;
    }
    if (found) await call("DELETE", `/proxies/${name}`);
    await call("POST", "/proxies", { name, listen, upstream, enabled: true });
    console.log(`link ${name}: ${listen} -> ${upstream}`);
  }
  const groups = words("SCRAPE_TARGETS").map((target) => {
    const [service, address] = target.split("=");
    if (!service || !address) throw new Error(`SCRAPE_TARGETS: "${target}" is not SERVICE=HOST:PORT`);
    return { targets: [address], labels: { service } };
  });
  const file = process.env.TARGETS_FILE;
  if (!file) throw new Error("TARGETS_FILE must be set");
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file); // Prometheus never reads a half-written file
  console.log(`scrape targets: ${groups.map((g) => `${g.labels.service}=${g.targets[0]}`).join(" ")} -> ${file}`);
}

main().catch((error) => {
  console.error(`mesh-init: ${error.message}`);
  process.exit(1);
});
