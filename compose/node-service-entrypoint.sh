#!/bin/sh
# Entry point of meshproof/node-service: meshproof-service NAME [NODE_ARG ...]
# Runs one mesh service the way harness/mesh/mesh.ts launches it: node, then MESHPROOF_NODE_FLAGS (the native mesh's
# V8 flags, baked in by the image build), then the extra node args, then the preload. MESHPROOF_TELEMETRY selects the
# preload: full (default: --require telemetry.js), sdk-disabled (the same with OTEL_SDK_DISABLED=true), none.
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
# MESHPROOF_NODE_FLAGS is a space-separated list of flags without spaces of their own: split on purpose.
# shellcheck disable=SC2086
exec /usr/local/bin/node ${MESHPROOF_NODE_FLAGS:-} "$@" "/app/dist/services/$name/main.js"
