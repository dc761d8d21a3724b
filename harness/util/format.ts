/** A size as people read it: "412 KiB", "12.35 MiB". */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
