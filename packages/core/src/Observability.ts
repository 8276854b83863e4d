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
export const opened: Effect.Effect<void> = Effect.andThen(
  Metric.modify(connectionsOpen, 1),
  Metric.update(connectionsTotal, 1)
)

/**
 * Records a connection closing with its byte counts.
 *
 * @category reporting
 * @since 0.1.0
 */
export const closed = (read: number, written: number): Effect.Effect<void> =>
  Effect.all([
    Metric.modify(connectionsOpen, -1),
    Metric.update(bytesRead, read),
    Metric.update(bytesWritten, written)
  ], { discard: true })

/**
 * Span attributes for an endpoint: `net.peer.address` / `net.peer.port` or
 * `net.peer.path` style keys under the given prefix.
 *
 * @category attributes
 * @since 0.1.0
 */
export const endpointAttributes = (prefix: string, endpoint: Endpoint | undefined): Record<string, unknown> =>
  endpoint === undefined
    ? {}
    : endpoint._tag === "Ipc"
    ? { [`${prefix}.path`]: endpoint.path }
    : {
      [`${prefix}.address`]: endpoint.address,
      [`${prefix}.port`]: endpoint.port,
      [`${prefix}.family`]: endpoint.family
    }
