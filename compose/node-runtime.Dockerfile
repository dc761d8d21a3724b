# The runtime under meshproof/node-service: Node 24 (the project's `node` devDependency binary) and the production
# node_modules of package-lock.json (npm ci --omit=dev). Rebuilt only when the binary or the lock file changes, so a
# change to the services rebuilds just the small node-service image on top. Built by harness/docker/images.ts.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
COPY app /app
WORKDIR /app
ENV NODE_ENV=production OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
