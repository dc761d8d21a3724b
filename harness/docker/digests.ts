import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

interface Entry {
  /** dev:ino:size:mtime when the digest was taken. */
  stamp: string;
  sha256: string;
}

/**
 * sha256 of files, remembered across processes by (device, inode, size, mtime) in one JSON file — as git's index
 * does — so a warm "has anything changed?" check reads no file twice (the Jaeger binary alone is 120 MB).
 */
export class DigestCache {
  private entries: Record<string, Entry> | undefined;
  private dirty = false;

  constructor(private readonly file: string) {}

  async file256(file: string): Promise<string> {
    const entries = this.load();
    const stat = await fs.promises.stat(file);
    const stamp = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const known = entries[file];
    if (known?.stamp === stamp) return known.sha256;
    const hash = crypto.createHash("sha256");
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    const sha256 = hash.digest("hex");
    entries[file] = { stamp, sha256 };
    this.dirty = true;
    return sha256;
  }

  /** Digest of a directory tree: relative paths, executable bits and file digests, in sorted order. */
  async tree256(dir: string): Promise<string> {
    const hash = crypto.createHash("sha256");
    for (const file of listFiles(dir)) {
      const absolute = path.join(dir, file);
      const executable = (fs.statSync(absolute).mode & 0o111) !== 0;
      hash.update(`${file}\0${executable ? "x" : "-"}\0${await this.file256(absolute)}\n`);
    }
    return hash.digest("hex");
  }

  save(): void {
    if (!this.dirty || !this.entries) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(`${this.file}.${process.pid}.tmp`, JSON.stringify(this.entries));
    fs.renameSync(`${this.file}.${process.pid}.tmp`, this.file);
    this.dirty = false;
  }

  private load(): Record<string, Entry> {
    if (this.entries) return this.entries;
    try {
      this.entries = JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, Entry>;
    } catch {
      this.entries = {};
    }
    return this.entries;
  }
}

/** Every regular file under dir, relative, sorted (symbolic links are followed). */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      const stat = entry.isSymbolicLink() ? fs.statSync(path.join(dir, child)) : entry;
      if (stat.isDirectory()) walk(child);
      else if (stat.isFile()) files.push(child);
    }
  };
  walk("");
  return files.sort();
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}
