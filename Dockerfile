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

# The kubectl plugin's release archives, one per platform, for krew (plugins/mirror.yaml):
#   docker build --target plugins --output dist .
FROM build AS plugin-build
COPY README.md ./
COPY tools/krew_manifest.ts tools/
RUN for t in x86_64-unknown-linux-gnu:linux_amd64 aarch64-unknown-linux-gnu:linux_arm64 \
      x86_64-apple-darwin:darwin_amd64 aarch64-apple-darwin:darwin_arm64 x86_64-pc-windows-msvc:windows_amd64; do \
      sh tools/build_binary.sh --plugin "${t%%:*}" "/dist/kubectl-mirror_${t##*:}.tar.gz"; done \
 && deno run --allow-read --allow-write tools/krew_manifest.ts "v$(deno eval 'console.log(JSON.parse(Deno.readTextFileSync("deno.json")).version)')" /dist /dist/mirror.yaml
FROM scratch AS plugins
COPY --from=plugin-build /dist/ /

# Run: distroless (glibc for the Deno runtime, CA certificates, nonroot 65532), nothing but the binary.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/kubemirror /kubemirror
USER 65532:65532
# Two malloc arenas, not eight per core: V8's collector threads would each keep one resident.
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080 8081
ENTRYPOINT ["/kubemirror"]
