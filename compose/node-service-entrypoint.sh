#!/bin/sh
# Entry point of meshproof/node-service: meshproof-service NAME [NODE_ARG ...]
# Runs one mesh service the way harness/mesh/mesh.ts launches it. MESHPROOF_TELEMETRY selects the preload:
# full (default: --require telemetry.js), sdk-disabled (the same with OTEL_SDK_DISABLED=true), none (no preload).
set -eu
name="${1:-}"
case "$name" in
  gateway | orders | inventory | payments) shift ;;
  *)
    echo "usage: meshproof-service gateway|orders|inventory|payments [node args...] (got \"$name\")" >&2
    exit 2
    ;;
esac
case "${MESHPROOF_TELEMETRY:-full}" in
  full) set -- "$@" --require /app/dist/services/lib/telemetry.js ;;
  sdk-disabled)
    export OTEL_SDK_DISABLED=true
    set -- "$@" --require /app/dist/services/lib/telemetry.js
    ;;
  none) ;;
  *)
    echo "MESHPROOF_TELEMETRY must be full, sdk-disabled or none (got \"$MESHPROOF_TELEMETRY\")" >&2
    exit 2
    ;;
esac
exec /usr/local/bin/node "$@" "/app/dist/services/$name/main.js"
