# A mesh service: Node 24 (the project's `node` devDependency binary), the built dist/ (services and the telemetry
# contract in assertions/), services/proto and the production node_modules. Built by harness/docker/images.ts.
#   docker run --network host -e MESHPROOF_... meshproof/node-service:<version> <gateway|orders|inventory|payments>
# runs `node --require dist/services/lib/telemetry.js dist/services/<name>/main.js` in /app, as harness/mesh does.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
COPY app /app
COPY meshproof-service /usr/local/bin/meshproof-service
WORKDIR /app
ENV NODE_ENV=production OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
ENTRYPOINT ["/usr/local/bin/meshproof-service"]
