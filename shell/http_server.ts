/**
 * The health and metrics endpoints: `/healthz` (alive), `/readyz` (caches synced) on the health probe
 * address, Prometheus text on `/metrics` on the metrics address. `0` disables an address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBindAddress } from "./http_server.ts";
 * assert.deepEqual(parseBindAddress(":8080"), { hostname: "0.0.0.0", port: 8080 });
 * ```
 * @module
 */
import type { Registry } from "prom-client";

/** A bind address such as `:8080` or `127.0.0.1:9090`; undefined for `0` (disabled). */
export function parseBindAddress(address: string): { hostname: string; port: number } | undefined {
  if (address === "0" || address === "") return undefined;
  const colon = address.lastIndexOf(":");
  const host = colon >= 0 ? address.slice(0, colon) : "";
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid bind address "${address}"`);
  }
  return { hostname: host === "" ? "0.0.0.0" : host.replace(/^\[|\]$/g, ""), port };
}

/** Starts the servers; returns a function that stops them. */
export function serveEndpoints(
  options: { healthAddress: string; metricsAddress: string; ready: () => boolean; registry: Registry },
): { shutdown: () => Promise<void> } {
  const servers: Deno.HttpServer[] = [];
  const health = parseBindAddress(options.healthAddress);
  const metrics = parseBindAddress(options.metricsAddress);
  const metricsHandler = async () =>
    new Response(await options.registry.metrics(), {
      headers: { "content-type": options.registry.contentType },
    });
  const healthHandler = (path: string) => {
    if (path === "/healthz" || path === "/livez") return new Response("ok\n");
    if (path === "/readyz") {
      return options.ready() ? new Response("ok\n") : new Response("caches not synced\n", { status: 503 });
    }
    return undefined;
  };
  const same = health && metrics && health.port === metrics.port && health.hostname === metrics.hostname;
  if (health) {
    servers.push(Deno.serve({ ...health, onListen: () => {} }, async (req) => {
      const path = new URL(req.url).pathname;
      if (same && path === "/metrics") return await metricsHandler();
      return healthHandler(path) ?? new Response("not found\n", { status: 404 });
    }));
  }
  if (metrics && !same) {
    servers.push(Deno.serve({ ...metrics, onListen: () => {} }, async (req) => {
      const path = new URL(req.url).pathname;
      return path === "/metrics" ? await metricsHandler() : new Response("not found\n", { status: 404 });
    }));
  }
  return { shutdown: async () => void (await Promise.all(servers.map((s) => s.shutdown()))) };
}
