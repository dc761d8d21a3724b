# Jaeger v2 (cmd/jaeger) as `npm run setup` built it into the tool cache (Go module), on meshproof's local Debian base.
# Built by harness/docker/images.ts: `docker build --network host`, never pulled; the context holds only the binary.
# Its config (compose/jaeger.yaml, rendered with the run's ports) is bind-mounted at run time; host networking.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY jaeger /usr/local/bin/jaeger
ENTRYPOINT ["/usr/local/bin/jaeger"]
