# syntax=docker/dockerfile:1
# Build: compile the controller into one binary with the same permissions as `deno task start`:
# network, environment, and read access to the service-account files and the system CA bundles only
# (for clusters whose kubeconfig names no CA). No write, run or FFI.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY mod.ts ./
COPY core/ core/
COPY shell/ shell/
RUN deno install --frozen --entrypoint mod.ts
RUN deno compile --frozen --no-prompt \
      --allow-net --allow-env \
      --allow-read=/var/run/secrets/kubernetes.io/serviceaccount,/etc/ssl/certs/ca-certificates.crt,/etc/pki/tls/certs/ca-bundle.crt,/etc/ssl/ca-bundle.pem,/etc/pki/tls/cacert.pem,/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem,/etc/ssl/cert.pem \
      --output /out/kubemirror mod.ts

# Run: distroless (glibc for the Deno runtime), non-root, nothing but the binary.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/kubemirror /kubemirror
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/kubemirror"]
