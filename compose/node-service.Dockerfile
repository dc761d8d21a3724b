# A mesh service: the built dist/ (services and the telemetry contract in assertions/) and services/proto, on
# meshproof/node-runtime (Node 24 and the production node_modules). Built by harness/docker/images.ts.
#   docker run --network host -e MESHPROOF_... meshproof/node-service:<version> <gateway|orders|inventory|payments>
# runs `node --require dist/services/lib/telemetry.js dist/services/<name>/main.js` in /app, as harness/mesh does.
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
COPY meshproof-service /usr/local/bin/meshproof-service
COPY app /app
ENTRYPOINT ["/usr/local/bin/meshproof-service"]
