/**
 * Metrics and span names of Sluice's Effect face.
 *
 * The engine counts bytes in plain fields on every chunk; the Effect face
 * reports them here only at the edges of a connection's life (open, close),
 * so no Effect runs per chunk.
 *
 * Spans (through Effect's `Tracer`, so any tracer layer receives them):
 *
 * - `sluice.connect`: one per `Network.connect`, with the target, every
 *   attempt and the outcome;
 * - `sluice.listen`: one per `Network.listen`, with the bound address;
 * - `sluice.connection`: one per connection served by `Server.serve`, with the
 *   peer address, bytes in and out, and the outcome.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type { Endpoint } from "./Driver.ts"

/** A counter that only grows. */
const counter = (name: string, description: string): Metric.Counter<number> =>
  Metric.counter(name, { description, incremental: true })

/**
 * Connections open right now (client and server sides).
 *
 * @category metrics
 * @since 0.1.0
 */
export const connectionsOpen: Metric.Gauge<number> = Metric.gauge("sluice_connections_open", {
  description: "Sluice connections currently open"
})

/**
 * Connections opened since start (connected or accepted).
 *
 * @category metrics
 * @since 0.1.0
 */
export const connectionsTotal: Metric.Counter<number> = counter(
  "sluice_connections_total",
  "Sluice connections opened (connected or accepted)"
)

/**
 * Connections refused by a server because `maxConnections` was reached.
 *
 * @category metrics
 * @since 0.1.0
 */
export const connectionsDropped: Metric.Counter<number> = counter(
  "sluice_connections_dropped_total",
  "Connections refused because maxConnections was reached"
)

/**
 * TLS handshakes a server refused or that failed (a scanner, a plain-text
 * client, a wrong certificate, a deadline), reported when the server closes.
 *
 * @category metrics
 * @since 0.1.0
 */
export const handshakeFailures: Metric.Counter<number> = counter(
  "sluice_tls_handshake_failures_total",
  "TLS handshakes that failed on Sluice servers (reported when a server closes)"
)

/**
 * Failed `Network.connect` calls.
 *
 * @category metrics
 * @since 0.1.0
 */
export const connectFailures: Metric.Counter<number> = counter(
  "sluice_connect_failures_total",
  "Failed Sluice connects"
)

/**
 * Bytes received, reported when each connection closes.
 *
 * @category metrics
 * @since 0.1.0
 */
export const bytesRead: Metric.Counter<number> = counter(
  "sluice_bytes_read_total",
  "Bytes received over Sluice connections (reported at close)"
)

/**
 * Bytes sent, reported when each connection closes.
 *
 * @category metrics
 * @since 0.1.0
 */
export const bytesWritten: Metric.Counter<number> = counter(
  "sluice_bytes_written_total",
  "Bytes sent over Sluice connections (reported at close)"
)

/**
 * Records a connection opening.
 *
 * @category reporting
 * @since 0.1.0
 */
export const opened: Effect.Effect<void> = Effect.withFiber((fiber) => {
  openedUnsafe(fiber.context)
  return Effect.void
})

/**
 * Records a connection opening, from plain code that holds the fiber's
 * context (the per-connection acquire path runs no extra Effect steps).
 *
 * @category reporting
 * @since 0.1.0
 */
export const openedUnsafe = (context: Context.Context<never>): void => {
  connectionsOpen.modifyUnsafe(1, context)
  connectionsTotal.updateUnsafe(1, context)
}

/**
 * Records a connection closing with its byte counts.
 *
 * @category reporting
 * @since 0.1.0
 */
export const closed = (read: number, written: number): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    closedUnsafe(read, written, fiber.context)
    return Effect.void
  })

/**
 * Records a connection closing, from plain code that holds the fiber's
 * context (the per-connection release path runs no extra Effect steps).
 *
 * @category reporting
 * @since 0.1.0
 */
export const closedUnsafe = (read: number, written: number, context: Context.Context<never>): void => {
  connectionsOpen.modifyUnsafe(-1, context)
  bytesRead.updateUnsafe(read, context)
  bytesWritten.updateUnsafe(written, context)
}

/**
 * Span attributes for an endpoint: `net.peer.address` / `net.peer.port` or
 * `net.peer.path` style keys under the given prefix.
 *
 * @category attributes
 * @since 0.1.0
 */
export const endpointAttributes = (prefix: string, endpoint: Endpoint | undefined): Record<string, unknown> =>
  putEndpointAttributes({}, prefix, endpoint)

/**
 * Adds the attributes of {@link endpointAttributes} to `out` (one attribute
 * object per connection instead of one per endpoint plus a merge).
 *
 * @category attributes
 * @since 0.1.0
 */
export const putEndpointAttributes = (
  out: Record<string, unknown>,
  prefix: string,
  endpoint: Endpoint | undefined
): Record<string, unknown> => {
  if (endpoint === undefined) return out
  const keys = endpointKeys(prefix)
  if (endpoint._tag === "Ipc") out[keys.path] = endpoint.path
  else {
    out[keys.address] = endpoint.address
    out[keys.port] = endpoint.port
    out[keys.family] = endpoint.family
  }
  return out
}

interface EndpointKeys {
  readonly path: string
  readonly address: string
  readonly port: string
  readonly family: string
}

/** The attribute names under a prefix, built once per prefix (there are two: `net.peer`, `net.local`). */
const keysByPrefix = new Map<string, EndpointKeys>()
const endpointKeys = (prefix: string): EndpointKeys => {
  let keys = keysByPrefix.get(prefix)
  if (keys === undefined) {
    keys = {
      path: `${prefix}.path`,
      address: `${prefix}.address`,
      port: `${prefix}.port`,
      family: `${prefix}.family`
    }
    if (keysByPrefix.size < 16) keysByPrefix.set(prefix, keys)
  }
  return keys
}
