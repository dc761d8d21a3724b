# Toxiproxy server as `npm run setup` built it into the tool cache (go install), on meshproof's local Debian base.
# Built by harness/docker/images.ts: `docker build --network host`, never pulled; the context holds only the binary.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY toxiproxy-server /usr/local/bin/toxiproxy-server
ENTRYPOINT ["/usr/local/bin/toxiproxy-server"]
