import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { toolCacheDir } from "../config/env";
import { ToolMissingError } from "../errors";
import { sha256 } from "./digests";
import { docker, runCommand } from "./docker-cli";
import { findOnPath } from "./engine";

/** The Debian release of every meshproof image. */
export const BASE_SUITE = "bookworm";
/** Bumped when the recipe below changes in a way its inputs hash cannot see. */
const BASE_REVISION = 1;
/** The base image's tag in a repository namespace ("meshproof" but for benchmark builds). */
export function baseTag(namespace = "meshproof"): string {
  return `${namespace}/base:${BASE_SUITE}-${BASE_REVISION}`;
}
/** Packages beyond minbase: TLS roots (apt over https, OTLP to https endpoints). Nothing else. */
const BASE_INCLUDE = ["ca-certificates"];
const SOURCES_GLOBS = ["/etc/apt/sources.list", "/etc/apt/sources.list.d"];

/** One Debian apt source of this machine. */
export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
}

export interface BaseRecipe {
  tag: string;
  /** The mirror debootstrap downloads from: the one this machine's apt uses for the release. */
  mirror: string;
  /** The image's apt sources: this machine's Debian entries for the release (main, updates, security). */
  sources: AptSource[];
  inputsHash: string;
}

/** The Debian entries (release, -updates, -security) of this machine's apt configuration. */
export function debianSources(files = aptSourceFiles()): AptSource[] {
  const suite = new RegExp(`^${BASE_SUITE}(-updates|-security|-backports)?$`);
  const sources: AptSource[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const parsed = file.endsWith(".sources") ? parseDeb822(text) : parseOneLine(text);
    for (const source of parsed) {
      const suites = source.suites.filter((s) => suite.test(s));
      if (suites.length > 0) sources.push({ ...source, suites });
    }
  }
  return sources;
}

function aptSourceFiles(): string[] {
  const files: string[] = [];
  for (const entry of SOURCES_GLOBS) {
    if (!fs.existsSync(entry)) continue;
    if (fs.statSync(entry).isFile()) files.push(entry);
    else
      for (const name of fs.readdirSync(entry).sort())
        if (name.endsWith(".list") || name.endsWith(".sources")) files.push(path.join(entry, name));
  }
  return files;
}

function parseOneLine(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw
      .replace(/#.*/, "")
      .replace(/\[[^\]]*\]/, "")
      .trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (type === "deb" && uri && suite) sources.push({ uris: [uri], suites: [suite], components });
  }
  return sources;
}

function parseDeb822(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of paragraph.split("\n")) {
      if (line.startsWith("#")) continue;
      const match = /^([\w-]+):\s*(.*)$/.exec(line);
      if (match) fields[match[1]!.toLowerCase()] = match[2]!;
    }
    if (!(fields.types ?? "").split(/\s+/).includes("deb") || fields.enabled === "no") continue;
    const words = (key: string) => (fields[key] ?? "").split(/\s+/).filter(Boolean);
    sources.push({ uris: words("uris"), suites: words("suites"), components: words("components") });
  }
  return sources;
}

export function baseRecipe(namespace = "meshproof"): BaseRecipe {
  const sources = debianSources();
  const mirror = sources.find((s) => s.suites.includes(BASE_SUITE))?.uris[0];
  if (!mirror) {
    throw new ToolMissingError(
      `no Debian ${BASE_SUITE} entry in ${SOURCES_GLOBS.join(" or ")}; the base image is bootstrapped from the ` +
        `mirror this machine's apt uses (add a "deb <mirror> ${BASE_SUITE} main" source)`,
    );
  }
  const recipe = {
    revision: BASE_REVISION,
    suite: BASE_SUITE,
    variant: "minbase",
    include: BASE_INCLUDE,
    mirror,
    sources,
  };
  return { tag: baseTag(namespace), mirror, sources, inputsHash: sha256(JSON.stringify(recipe)) };
}

function sourcesFile(sources: AptSource[]): string {
  return sources
    .map((s) =>
      [
        "Types: deb",
        `URIs: ${s.uris.join(" ")}`,
        `Suites: ${s.suites.join(" ")}`,
        `Components: ${s.components.join(" ") || "main"}`,
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

/**
 * Bootstraps a minimal Debian root filesystem (debootstrap --variant=minbase, plus ca-certificates) from this
 * machine's mirror and `docker import`s it as the base tag, labelled with the recipe's hash. Needs root.
 */
export async function buildBaseImage(
  recipe: BaseRecipe,
  log: (line: string) => void,
  work = path.join(toolCacheDir(), "docker"),
): Promise<void> {
  const debootstrap = (await findOnPath("debootstrap")) ?? "/usr/sbin/debootstrap";
  if (!fs.existsSync(debootstrap)) {
    throw new ToolMissingError(`debootstrap is not installed; run "npm run setup -- --with docker"`);
  }
  fs.mkdirSync(work, { recursive: true });
  const rootfs = fs.mkdtempSync(path.join(work, ".base-rootfs-"));
  try {
    const args = [
      "--variant=minbase",
      `--include=${BASE_INCLUDE.join(",")}`,
      "--components=main",
      BASE_SUITE,
      rootfs,
      recipe.mirror,
    ];
    log(`base: debootstrap ${args.join(" ")}`);
    let started = Date.now();
    const bootstrap = await runCommand(debootstrap, args, { log: quiet(log) });
    if (bootstrap.code !== 0) {
      throw new ToolMissingError(
        `debootstrap of ${BASE_SUITE} from ${recipe.mirror} failed (exit ${bootstrap.code}):\n` +
          `${(bootstrap.stdout + bootstrap.stderr).trimEnd().split("\n").slice(-15).join("\n")}`,
      );
    }
    log(`base: debootstrap took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    customise(rootfs, recipe);

    started = Date.now();
    const tar = spawn("tar", ["--numeric-owner", "-C", rootfs, "-cf", "-", "."], { stdio: ["ignore", "pipe", "pipe"] });
    let tarError = "";
    tar.stderr.on("data", (chunk) => (tarError += chunk));
    const imported = await docker(
      [
        "import",
        "--change",
        `LABEL meshproof.image=base meshproof.inputs=${recipe.inputsHash}`,
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8",
        "--change",
        'CMD ["/bin/bash"]',
        "-",
        recipe.tag,
      ],
      { input: tar.stdout },
    );
    const tarCode: number = tar.exitCode ?? (await new Promise((resolve) => tar.once("close", resolve)));
    if (imported.code !== 0 || tarCode !== 0) {
      throw new ToolMissingError(`docker import of ${recipe.tag} failed: ${imported.stderr.trim()} ${tarError.trim()}`);
    }
    log(`base: docker import ${recipe.tag} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await removeRootfs(rootfs);
  }
}

/** Debootstrap prints a line per package: keep its stages and errors, not the noise. */
function quiet(log: (line: string) => void): (line: string) => void {
  return (line) => {
    if (/^\s*I: (Retrieving|Validating|Extracting|Unpacking|Configuring) /.test(line)) return;
    log(line);
  };
}

function customise(rootfs: string, recipe: BaseRecipe): void {
  // apt inside image builds uses exactly this machine's Debian sources (same snapshot, same versions).
  fs.rmSync(path.join(rootfs, "etc/apt/sources.list"), { force: true });
  fs.writeFileSync(path.join(rootfs, "etc/apt/sources.list.d/debian.sources"), sourcesFile(recipe.sources));
  fs.writeFileSync(
    path.join(rootfs, "etc/apt/apt.conf.d/90meshproof"),
    'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n',
  );
  // As in Debian's own images: package scripts must not try to start services inside an image build.
  fs.writeFileSync(path.join(rootfs, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  // Downloaded packages and lists are build leftovers; each image build runs apt-get update itself.
  for (const dir of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
    const full = path.join(rootfs, dir);
    for (const entry of fs.readdirSync(full)) {
      if (entry === "partial" || entry === "lock") continue;
      fs.rmSync(path.join(full, entry), { recursive: true, force: true });
    }
  }
  fs.rmSync(path.join(rootfs, "var/cache/apt/pkgcache.bin"), { force: true });
  fs.rmSync(path.join(rootfs, "var/cache/apt/srcpkgcache.bin"), { force: true });
  // The engine provides these at run time (host networking: the host's own).
  fs.writeFileSync(path.join(rootfs, "etc/resolv.conf"), "");
  fs.writeFileSync(path.join(rootfs, "etc/hostname"), "");
}

/** Removes the staging root filesystem, unmounting first anything an interrupted debootstrap left mounted in it. */
async function removeRootfs(rootfs: string): Promise<void> {
  const mounts = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point === rootfs || point.startsWith(`${rootfs}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await runCommand("umount", ["-l", point]);
  fs.rmSync(rootfs, { recursive: true, force: true });
}
