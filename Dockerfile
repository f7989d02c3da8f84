# syntax=docker/dockerfile:1
# Build: bundle the controller and compile the bundle into one binary with the same permissions as
# `deno task start` (tools/build_binary.sh, which a test runs too).
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY mod.ts ./
COPY core/ core/
COPY shell/ shell/
COPY tools/build_binary.sh tools/
RUN deno install --frozen --entrypoint mod.ts
RUN sh tools/build_binary.sh /out/kubemirror

# Run: distroless (glibc for the Deno runtime, CA certificates, nonroot 65532), nothing but the binary.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/kubemirror /kubemirror
USER 65532:65532
# Two malloc arenas, not eight per core: V8's collector threads would each keep one resident.
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080 8081
ENTRYPOINT ["/kubemirror"]
