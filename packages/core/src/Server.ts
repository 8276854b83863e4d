/**
 * A listening server, Effect style: an address and a `Stream` of accepted
 * sockets, each living in its own scope.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Endpoint } from "./Driver.ts"
import type { Connection, Listener } from "./Engine.ts"
import * as Socket from "./Socket.ts"

/**
 * @category type IDs
 * @since 0.1.0
 */
export const TypeId: "~@sluice/core/Server" = "~@sluice/core/Server"

/**
 * A listening server.
 *
 * @category models
 * @since 0.1.0
 */
export interface Server {
  readonly [TypeId]: typeof TypeId
  /** The bound address (the real port when listening on port 0). */
  readonly address: Endpoint
  /**
   * Accepted connections, in arrival order. Each socket lives in its own scope,
   * a child of the server's: close it with `Socket.use`, or let the server's
   * scope close it. Pull it once.
   */
  readonly accept: Stream.Stream<Socket.Socket>
  /** The engine listener underneath. */
  readonly listener: Listener
}

/**
 * Internal: the accept queue between the engine listener and the stream.
 *
 * @internal
 */
export class AcceptQueue {
  private pending: Array<Connection> = []
  private waiter: ((connections: NonEmptyReadonlyArray<Connection>) => void) | undefined
  closed = false
  push(connection: Connection): void {
    if (this.closed) {
      connection.close()
      return
    }
    this.pending.push(connection)
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(this.take())
    }
  }
  private take(): NonEmptyReadonlyArray<Connection> {
    const out = this.pending as unknown as NonEmptyReadonlyArray<Connection>
    this.pending = []
    return out
  }
  readonly pull: Effect.Effect<NonEmptyReadonlyArray<Connection>> = Effect.suspend(() =>
    this.pending.length > 0
      ? Effect.succeed(this.take())
      : Effect.callback<NonEmptyReadonlyArray<Connection>>((resume) => {
        const waiter = (connections: NonEmptyReadonlyArray<Connection>) => resume(Effect.succeed(connections))
        this.waiter = waiter
        return Effect.sync(() => {
          if (this.waiter === waiter) this.waiter = undefined
        })
      })
  )
  /** Closes every connection nobody accepted yet. */
  close(): void {
    this.closed = true
    for (const connection of this.pending.splice(0)) connection.close()
  }
}

/**
 * Builds a `Server` over an engine listener whose connections arrive in `queue`.
 *
 * @internal
 */
export const make = (
  listener: Listener,
  queue: AcceptQueue,
  scope: Scope.Scope,
  options?: Socket.SocketOptions
): Server => ({
  [TypeId]: TypeId,
  address: listener.endpoint(),
  listener,
  accept: Stream.fromPull(
    Effect.succeed(
      Effect.flatMap(
        queue.pull,
        (connections) =>
          Effect.forEach(connections, (connection) => Socket.make(connection, scope, options)) as Effect.Effect<
            NonEmptyReadonlyArray<Socket.Socket>
          >
      )
    )
  )
})
