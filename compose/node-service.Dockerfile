# A mesh service: the built dist/ (services and the telemetry contract in assertions/) and services/proto, on
# meshproof/node-runtime (Node 24 and the production node_modules). Built by harness/docker/images.ts.
#   docker run --network host -e MESHPROOF_... meshproof/node-service:<version> <gateway|orders|inventory|payments>
# runs `node $MESHPROOF_NODE_FLAGS --require dist/services/lib/telemetry.js dist/services/<name>/main.js` in /app, as
# harness/mesh does. NODE_FLAGS is harness/mesh/mesh.ts's NODE_FLAGS, passed by the image build (one list for both).
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
ARG NODE_FLAGS
ENV MESHPROOF_NODE_FLAGS="${NODE_FLAGS}"
COPY meshproof-service /usr/local/bin/meshproof-service
COPY app /app
ENTRYPOINT ["/usr/local/bin/meshproof-service"]
