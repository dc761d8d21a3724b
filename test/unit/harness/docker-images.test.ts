import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { debianSources } from "../../../harness/docker/base-image";
import { DigestCache } from "../../../harness/docker/digests";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-unit-"));
}

describe("the base image's apt sources are this machine's Debian entries", () => {
  test("deb822 and one-line files; other suites and repositories are left out", () => {
    const dir = tempDir();
    const deb822 = path.join(dir, "debian.sources");
    fs.writeFileSync(
      deb822,
      [
        "Types: deb",
        "# http://snapshot.example/archive/debian/20250520T000000Z",
        "URIs: http://deb.debian.org/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb",
        "URIs: http://deb.debian.org/debian-security",
        "Suites: bookworm-security",
        "Components: main",
        "",
        "Types: deb",
        "URIs: https://deb.nodesource.com/node_20.x",
        "Suites: nodistro",
        "Components: main",
        "",
        "Types: deb-src",
        "URIs: http://deb.debian.org/debian",
        "Suites: bookworm",
        "Components: main",
        "",
      ].join("\n"),
    );
    const oneLine = path.join(dir, "extra.list");
    fs.writeFileSync(
      oneLine,
      [
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main",
        "# deb http://commented.example/debian bookworm main",
        "deb [arch=amd64] http://mirror.example/debian bookworm-backports main contrib",
      ].join("\n"),
    );
    expect(debianSources([deb822, oneLine])).toEqual([
      { uris: ["http://deb.debian.org/debian"], suites: ["bookworm", "bookworm-updates"], components: ["main"] },
      { uris: ["http://deb.debian.org/debian-security"], suites: ["bookworm-security"], components: ["main"] },
      { uris: ["http://mirror.example/debian"], suites: ["bookworm-backports"], components: ["main", "contrib"] },
    ]);
  });
});

describe("file digests", () => {
  test("a changed file gets a new digest; an unchanged one is not read again; a tree covers names and modes", async () => {
    const dir = tempDir();
    const file = path.join(dir, "tree", "a.txt");
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, "one");
    const cache = new DigestCache(path.join(dir, "digests.json"));
    const first = await cache.file256(file);
    const tree = await cache.tree256(path.dirname(file));
    cache.save();

    // A fresh cache (another process) trusts the stored digest while inode, size and mtime are unchanged: it does
    // not read the file again (the stored value is returned even when it is not the file's digest).
    const store = path.join(dir, "digests.json");
    const stored = JSON.parse(fs.readFileSync(store, "utf8")) as Record<string, { sha256: string }>;
    stored[file]!.sha256 = "remembered";
    fs.writeFileSync(store, JSON.stringify(stored));
    const reloaded = new DigestCache(store);
    expect(await reloaded.file256(file)).toBe("remembered");
    fs.writeFileSync(file, "changed");
    const changed = await reloaded.file256(file);
    expect(changed).not.toBe("remembered");
    expect(changed).not.toBe(first);

    fs.chmodSync(file, 0o755);
    const executable = await reloaded.tree256(path.dirname(file));
    fs.renameSync(file, path.join(dir, "tree", "b.txt"));
    const renamed = await reloaded.tree256(path.dirname(file));
    expect(new Set([tree, executable, renamed]).size).toBe(3);
  });
});
