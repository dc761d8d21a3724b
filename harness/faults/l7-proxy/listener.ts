import type net from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { LOOPBACK } from "../../util/ports";
import type { ProxyInfo, Protocol } from "./api-schema";
import { FaultSet } from "./fault-set";

/** One running proxy: its listener, its faults, and the count of calls it failed itself. */
export interface ProxyListener {
  readonly faults: FaultSet;
  info(): ProxyInfo;
  /** Stops listening and cuts every connection, both sides. */
  close(): Promise<void>;
}

/** The parsed POST /proxies body a listener starts from. */
export interface ListenerSpec {
  name: string;
  upstream: string;
  protocol: Protocol;
  listen: string;
}

/** "host:port" split; the port as a number. */
export function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/** Listens on 127.0.0.1 at the port of `listen` (0: the kernel's pick) and resolves with "127.0.0.1:PORT". */
export async function listenLoopback(server: net.Server, listen: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(splitHostPort(listen).port, LOOPBACK, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return `${LOOPBACK}:${(server.address() as AddressInfo).port}`;
}

/** Closes a server; the caller has already cut its connections, so this does not wait for clients. */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The shared part of both proxies' state: their spec, faults and own-failure counter. */
export class ProxyState {
  readonly faults: FaultSet;
  upstreamErrors = 0;
  /** The bound address, once listening. */
  listen: string;

  constructor(readonly spec: ListenerSpec) {
    this.faults = new FaultSet(spec.protocol);
    this.listen = spec.listen;
  }

  info(): ProxyInfo {
    const { name, upstream, protocol } = this.spec;
    return { name, listen: this.listen, upstream, protocol, upstreamErrors: this.upstreamErrors };
  }
}

/** The text injected errors carry (HTTP JSON body `error`, gRPC grpc-message). */
export const INJECTED_MESSAGE = "injected by meshproof l7-proxy";

/** Waits ms unless signal aborts first (the client went away); true when the full wait elapsed. */
export async function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  const until = performance.now() + ms;
  try {
    // A timer can fire up to a millisecond early against the monotonic clock; the added latency is a floor.
    for (let left = ms; left > 0; left = until - performance.now()) await sleep(Math.ceil(left), undefined, { signal });
    return !signal.aborted;
  } catch {
    return false;
  }
}
