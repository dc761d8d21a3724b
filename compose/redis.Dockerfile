# Redis from Debian: the exact package version installed on the host (PACKAGE_VERSION), from the same mirror.
# Built by harness/docker/images.ts with `docker build --network host`; never pulled.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG PACKAGE_VERSION
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends "redis-server=${PACKAGE_VERSION}" \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
ENTRYPOINT ["/usr/bin/redis-server"]
