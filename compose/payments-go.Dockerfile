# The Go payments service (services/payments-go) as `npm run setup` built it into the tool cache, on meshproof's local
# Debian base. Built by harness/docker/images.ts: `docker build --network host`, never pulled; the context holds only
# the binary. Configured entirely by its MESHPROOF_* environment (services/README.md), like the Node services.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY payments-go /usr/local/bin/payments-go
ENTRYPOINT ["/usr/local/bin/payments-go"]
