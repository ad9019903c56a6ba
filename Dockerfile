# syntax=docker/dockerfile:1
# Whirlpool's container image: the official Fluent Bit image with the four
# plugins, the shipped pipelines and the licenses added.
#
#   docker build -t whirlpool:dev .                    # runtime image (distroless)
#   docker build --target debug -t whirlpool:dev-debug .   # the same on Fluent Bit's -debug image (has a shell)
#   docker run whirlpool:dev                           # the edge (default)
#   docker run whirlpool:dev -c /fluent-bit/plugins/processor.conf
#
# The plugins are cgo shared objects: they load only where the C library is
# at least as new as the one they were linked against (else "GLIBC_2.xx not
# found"). So the build stage's glibc must not be newer than the runtime
# image's: Debian 12's 2.36 for the runtime's Debian 13 (2.41).
# e2e/image reads FLUENT_BIT_IMAGE and RUNTIME_GLIBC below and checks every
# build/*.so against RUNTIME_GLIBC.
#
# Pinned by tag. To pin by digest too, append it to the tag, e.g.
#   --build-arg FLUENT_BIT_IMAGE=cr.fluentbit.io/fluent/fluent-bit:5.1.1@sha256:<digest>
# (the digest from `docker buildx imagetools inspect cr.fluentbit.io/fluent/fluent-bit:5.1.1`;
# likewise GO_IMAGE and FLUENT_BIT_DEBUG_IMAGE), or edit the defaults here.
ARG GO_IMAGE=golang:1.26-bookworm
ARG FLUENT_BIT_IMAGE=cr.fluentbit.io/fluent/fluent-bit:5.1.1
ARG FLUENT_BIT_DEBUG_IMAGE=cr.fluentbit.io/fluent/fluent-bit:5.1.1-debug
# glibc of FLUENT_BIT_IMAGE (Debian 13): the newest GLIBC_x.y a plugin may need.
ARG RUNTIME_GLIBC=2.41

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY . .
# make builds build/*.so; scripts/image-tree lays out /out/fluent-bit/
# (plugins, configs, licenses from the module cache): the one list of what
# the image adds. Then refuse to build an image whose plugins would not
# load in it: the newest GLIBC_x.y each plugin needs must be at most
# RUNTIME_GLIBC (the test reads the defaults above: change them there).
# The module and build caches are BuildKit cache mounts: only the modules
# the plugins and that test need are downloaded, once.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make && scripts/image-tree /out && \
    go test -count=1 -run '^TestPluginsLoadOnTheImagesGlibc$' ./e2e/image/

FROM ${FLUENT_BIT_DEBUG_IMAGE} AS debug
COPY --from=build /out/ /
# Fluent Bit's user in the manifests (deploy/kubernetes) is 10001; the
# files are world-readable, so any non-root user can run them.
ENTRYPOINT ["/fluent-bit/bin/fluent-bit"]
CMD ["-c", "/fluent-bit/plugins/edge.conf"]

# The default target (last): distroless, no shell.
FROM ${FLUENT_BIT_IMAGE} AS runtime
COPY --from=build /out/ /
ENTRYPOINT ["/fluent-bit/bin/fluent-bit"]
CMD ["-c", "/fluent-bit/plugins/edge.conf"]
