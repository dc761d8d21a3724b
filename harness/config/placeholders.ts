import { ConfigError } from "../errors";

/** What the placeholders of a launched mesh's config resolve to (`{{port:NAME}}`, `{{link:NAME}}`, ...). */
export interface PlaceholderValues {
  /** A free port per name, chosen once per run. */
  port(name: string): number;
  /** host:port a link's callers call (its proxy). */
  link(name: string): string;
  otlp: { http: string; grpc: string };
  samplingRatio: number;
  /** The path of a provisioned tool's binary ("hotrod"). */
  tool(name: string): string;
  /** This launch's run directory (logs/ is in it). */
  run: string;
}

const PATTERN = /\{\{\s*([a-zA-Z]+)(?::([^}\s]+))?\s*\}\}/g;

/** The names of a kind of placeholder a text uses (`port` -> the NAMEs of its `{{port:NAME}}`). */
export function placeholderNames(text: string, kind: string): string[] {
  return [...text.matchAll(PATTERN)].filter((m) => m[1] === kind && m[2] !== undefined).map((m) => m[2]!);
}

/** The text with every placeholder filled in; ConfigError naming `where` and the placeholder when one is unknown. */
export function fillPlaceholders(text: string, values: PlaceholderValues, where: string): string {
  return text.replace(PATTERN, (whole, kind: string, arg: string | undefined) => {
    const need = () => {
      if (arg === undefined) throw new ConfigError(`${where}: ${whole} needs a name (${kind}:NAME)`);
      return arg;
    };
    switch (kind) {
      case "port":
        return String(values.port(need()));
      case "link": {
        const [name, part] = splitLast(need());
        const address = values.link(part === "port" || part === "host" ? name : need());
        return part === "port" ? address.split(":")[1]! : part === "host" ? address.split(":")[0]! : address;
      }
      case "otlp":
        if (arg === "http" || arg === "grpc") return values.otlp[arg];
        throw new ConfigError(`${where}: ${whole}: the OTLP endpoints are {{otlp:http}} and {{otlp:grpc}}`);
      case "samplingRatio":
        return String(values.samplingRatio);
      case "node":
        return process.execPath;
      case "run":
        return values.run;
      case "tool":
        return values.tool(need());
      default:
        throw new ConfigError(
          `${where}: unknown placeholder ${whole}; known: {{port:NAME}}, {{link:NAME}}, {{link:NAME.port}}, {{otlp:http}}, {{otlp:grpc}}, {{samplingRatio}}, {{tool:NAME}}, {{node}}, {{run}}`,
        );
    }
  });
}

/** "a.b.port" -> ["a.b", "port"] */
function splitLast(text: string): [string, string] {
  const dot = text.lastIndexOf(".");
  return dot < 0 ? [text, ""] : [text.slice(0, dot), text.slice(dot + 1)];
}
