import { NO_RESPONSE } from "../trace-index";

/** Client-side codes of a call its caller abandoned itself (gRPC deadline or cancel; HTTP: no response). */
export const CALLER_GAVE_UP = new Set(["DEADLINE_EXCEEDED", "CANCELLED", NO_RESPONSE]);

/**
 * Whether a code label is an error: for gRPC anything but OK, for HTTP a 5xx (or the class "5xx") or no response
 * ("0"); in the "error" form, "true".
 */
export function isErrorCode(protocol: string, code: string): boolean {
  if (code === "true" || code === "false") return code === "true";
  return protocol === "grpc" ? code !== "OK" : code === "0" || code === "5xx" || Number(code) >= 500;
}
