/**
 * A listening server, Effect style: an address and a `Stream` of accepted
 * sockets, each living in its own scope, plus {@link serve}: a handler per
 * connection with bounded concurrency, `maxConnections`, a handler-failure
 * policy and graceful shutdown.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import { dual } from "effect/Function"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as Address from "./Address.ts"
import type { DriverError, Endpoint } from "./Driver.ts"
import type { Connection, Listener } from "./Engine.ts"
import { millisOrMessage } from "./internal/duration.ts"
import { handshakeFields } from "./internal/handshake.ts"
import { fieldsFromDriver, invalidOptions, ListenError, SocketError } from "./NetError.ts"
import * as Observability from "./Observability.ts"
import * as Socket from "./Socket.ts"

/**
 * The key that marks a value as a {@link Server} (see {@link isServer}).
 *
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
export interface Server extends Pipeable {
  readonly [TypeId]: typeof TypeId
  /**
   * The bound address, exact: the real port when listening on port 0, the
   * path for IPC.
   */
  readonly address: Endpoint
  /**
   * Accepted connections, in arrival order. Each socket lives in its own scope,
   * a child of the server's: close it with `Socket.use`, or let the server's
   * scope close it. Nothing is read from a connection until its `reads` is
   * pulled. The stream ends when the server stops accepting. Pull it once.
   */
  readonly accept: Stream.Stream<Socket.Socket>
  /**
   * Stops accepting: closes the listening handle and every connection that
   * arrived but was not taken from `accept` yet. Open sockets are not touched.
   * Idempotent; the server's scope does it too.
   */
  readonly stopAccepting: Effect.Effect<void>
  /** Accepted connections that are still open. */
  readonly connections: Effect.Effect<number>
  /** Connections refused because `maxConnections` was reached (Node's `drop`). */
  readonly dropped: Effect.Effect<number>
  /**
   * Failures of the listening handle while accepting (`EMFILE`, ...): the
   * server keeps listening; they are counted here, with the latest one.
   */
  readonly acceptFailures: Effect.Effect<{ readonly count: number; readonly latest: ListenError | undefined }>
  /**
   * TLS handshakes that failed (a TLS server only; always 0 otherwise): a
   * scanner, a plain-text client, an untrusted client certificate, the
   * handshake deadline. The connection is closed, the server keeps serving;
   * they are counted here, with the latest one.
   */
  readonly handshakeFailures: Effect.Effect<{ readonly count: number; readonly latest: SocketError | undefined }>
  /**
   * Sets or clears (`undefined`) the limit of open connections; excess ones
   * are refused and counted. A limit that is not an integer ≥ 0 fails with
   * `InvalidOptions`.
   */
  readonly setMaxConnections: (max: number | undefined) => Effect.Effect<void, ListenError>
  /** The engine listener underneath. */
  readonly listener: Listener
}

/**
 * The accept queue between the engine listener and the `accept` stream.
 *
 * @category internals
 * @since 0.1.0
 */
export class AcceptQueue {
  private pending: Array<Connection> = []
  private waiter: ((connections: NonEmptyReadonlyArray<Connection> | undefined) => void) | undefined
  closed = false
  /** Accept failures reported by the listener. */
  failures = 0
  latestFailure: ListenError | undefined = undefined
  /** TLS handshakes that failed. */
  handshakeFailures = 0
  latestHandshakeFailure: SocketError | undefined = undefined
  /** Runs when the queue closes (a TLS server aborts its handshakes in flight). */
  onClose: (() => void) | undefined = undefined
  /** Records a failed TLS handshake (the connection is closed, the server goes on). */
  handshakeFailed(error: DriverError): void {
    this.handshakeFailures++
    this.latestHandshakeFailure = new SocketError(handshakeFields(error))
  }
  /** Records a failure of the listening handle (the listener stays open). */
  fail(error: DriverError): void {
    this.failures++
    this.latestFailure = new ListenError(fieldsFromDriver(error))
  }
  /** Hands an accepted connection to the stream (closes it when the queue is closed). */
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
  /** The next batch of connections; `Cause.Done` once closed. */
  readonly pull: Effect.Effect<NonEmptyReadonlyArray<Connection>, Cause.Done> = Effect.suspend(() =>
    this.pending.length > 0
      ? Effect.succeed(this.take())
      : this.closed
      ? Cause.done()
      : Effect.callback<NonEmptyReadonlyArray<Connection>, Cause.Done>((resume) => {
        const waiter = (connections: NonEmptyReadonlyArray<Connection> | undefined) =>
          resume(connections === undefined ? Cause.done() : Effect.succeed(connections))
        this.waiter = waiter
        return Effect.sync(() => {
          if (this.waiter === waiter) this.waiter = undefined
        })
      })
  )
  /** Closes every connection nobody accepted yet and ends the stream. */
  close(): void {
    this.closed = true
    this.onClose?.()
    for (const connection of this.pending.splice(0)) connection.close()
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(undefined)
    }
  }
}

/**
 * Builds a `Server` over an engine listener whose connections arrive in
 * `queue`. Used by `Network.listen`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  listener: Listener,
  queue: AcceptQueue,
  scope: Scope.Scope,
  options?: Socket.SocketOptions
): Server => ({
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  },
  address: listener.endpoint(),
  listener,
  stopAccepting: Effect.callback<void>((resume) => {
    queue.close()
    listener.close(() => resume(Effect.void))
  }),
  connections: Effect.sync(() => listener.connections),
  acceptFailures: Effect.sync(() => ({ count: queue.failures, latest: queue.latestFailure })),
  dropped: Effect.sync(() => listener.dropped),
  handshakeFailures: Effect.sync(() => ({ count: queue.handshakeFailures, latest: queue.latestHandshakeFailure })),
  setMaxConnections: (max) => {
    const invalid = checkMaxConnections(max)
    if (invalid !== undefined) return Effect.fail(new ListenError(invalidOptions("setMaxConnections", invalid)))
    return Effect.sync(() => {
      listener.maxConnections = max
    })
  },
  accept: Stream.fromPull(
    Effect.succeed(
      Effect.flatMap(queue.pull, (connections) =>
        // uninterruptible: a connection taken from the queue always gets its scope
        Effect.uninterruptible(Effect.forEach(connections, (connection) => Socket.make(connection, scope, options))))
    )
  )
})

/**
 * `true` when the value is a `Server`.
 *
 * @category guards
 * @since 0.1.0
 */
export const isServer = (u: unknown): u is Server => typeof u === "object" && u !== null && TypeId in u

// ---------------------------------------------------------------------------
// serve
// ---------------------------------------------------------------------------

/**
 * A connection handler failed (or died). Carries the full cause, typed with
 * the handler's error, and the peer's address.
 *
 * @category errors
 * @since 0.1.0
 */
export class HandlerError<E> extends Data.TaggedError("HandlerError")<{
  readonly cause: Cause.Cause<E>
  readonly remoteAddress: Endpoint | undefined
}> {
  override get message(): string {
    const peer = this.remoteAddress === undefined ? "unknown peer" : Address.format(this.remoteAddress)
    return `connection handler for ${peer} failed: ${Cause.pretty(this.cause)}`
  }
}

/**
 * Options of {@link serve}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServeOptions<E, R> {
  /**
   * How many handlers run at once: an integer ≥ 1, or `"unbounded"` (the
   * default). Connections beyond it wait, unread, until a handler finishes.
   */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * Refuse connections while this many are open (waiting ones included):
   * they are closed at once and counted in {@link ServeStats.dropped}.
   */
  readonly maxConnections?: number | undefined
  /**
   * At shutdown, how long running handlers may take to finish before they are
   * interrupted and their sockets aborted (default 10 seconds).
   */
  readonly gracePeriod?: Duration.Input | undefined
  /**
   * What to do when a handler fails or dies:
   *
   * - `"stop"` (default): shut the server down gracefully; `Serving.await`
   *   fails with the {@link HandlerError};
   * - a function: report the failure (log it, count it, alert) and keep serving.
   *
   * Interruption at shutdown is not a failure. Either way, failures are
   * counted in {@link ServeStats.failed}.
   */
  readonly onHandlerError?: "stop" | ((error: HandlerError<E>) => Effect.Effect<void, never, R>) | undefined
}

/**
 * Counters of a running {@link serve}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServeStats {
  /** Connections handed to a handler. */
  readonly accepted: number
  /** Handlers running now. */
  readonly active: number
  /** Handlers that succeeded. */
  readonly succeeded: number
  /** Handlers that failed or died. */
  readonly failed: number
  /** Handlers interrupted at the end of the grace period. */
  readonly aborted: number
  /** Connections refused because `maxConnections` was reached. */
  readonly dropped: number
}

/**
 * A running {@link serve}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Serving<E> {
  readonly stats: Effect.Effect<ServeStats>
  /**
   * Graceful shutdown, now: stop accepting, let running handlers finish
   * within the grace period, interrupt the rest (their sockets are aborted).
   * Idempotent; closing the scope `serve` ran in does the same.
   */
  readonly shutdown: Effect.Effect<void>
  /**
   * Waits until serving has ended: succeeds after a shutdown, fails with the
   * first {@link HandlerError} under the `"stop"` policy.
   */
  readonly await: Effect.Effect<void, HandlerError<E>>
}

/** The message naming a limit of connections that is not an integer ≥ 0, if it is not. */
const checkMaxConnections = (max: number | undefined): string | undefined =>
  max === undefined || (Number.isInteger(max) && max >= 0)
    ? undefined
    : `maxConnections: expected an integer ≥ 0, got ${String(max)}`

const serveImpl = <A, E, R>(
  server: Server,
  handler: (socket: Socket.Socket) => Effect.Effect<A, E, R>,
  options?: ServeOptions<E, R>
): Effect.Effect<Serving<E>, ListenError, R | Scope.Scope> =>
  Effect.gen(function*() {
    const concurrency = options?.concurrency ?? "unbounded"
    const graceMs = millisOrMessage("gracePeriod", options?.gracePeriod ?? Duration.seconds(10))
    const invalid = concurrency !== "unbounded" && !(Number.isInteger(concurrency) && concurrency >= 1)
      ? `concurrency: expected an integer ≥ 1 or "unbounded", got ${String(concurrency)}`
      : checkMaxConnections(options?.maxConnections)
    if (invalid !== undefined || typeof graceMs === "string") {
      return yield* new ListenError(invalidOptions("serve", invalid ?? String(graceMs)))
    }
    const grace = graceMs === undefined ? Duration.infinity : Duration.millis(graceMs)
    const outer = yield* Scope.Scope
    const handlersScope = yield* Scope.fork(outer)
    const fibers = yield* Scope.provide(FiberSet.make<unknown, unknown>(), handlersScope)
    const permits = concurrency === "unbounded" ? undefined : yield* Semaphore.make(concurrency)
    const policy = options?.onHandlerError ?? "stop"
    const ended = yield* Deferred.make<void, HandlerError<E>>()
    let accepted = 0
    let active = 0
    let succeeded = 0
    let failed = 0
    let aborted = 0
    let shuttingDown = false
    let firstFailure: HandlerError<E> | undefined
    if (options?.maxConnections !== undefined) server.listener.maxConnections = options.maxConnections

    const runOne = (socket: Socket.Socket): Effect.Effect<void, never, R> => {
      const peer = socket.remoteAddress
      const body = Socket.use(socket, handler).pipe(
        Effect.onExit((exit) =>
          Effect.annotateCurrentSpan({
            "sluice.bytes_in": socket.connection.bytesRead,
            "sluice.bytes_out": socket.connection.bytesWritten,
            "sluice.outcome": Exit.isSuccess(exit)
              ? "success"
              : Cause.hasInterruptsOnly(exit.cause)
              ? "interrupted"
              : "failure"
          })
        ),
        Effect.withSpan("sluice.connection", {
          kind: "server",
          attributes: Observability.putEndpointAttributes(
            Observability.endpointAttributes("net.peer", peer),
            "net.local",
            socket.localAddress
          )
        }, { captureStackTrace: false })
      )
      // accounting and the failure policy run as the handler's finalizer, so
      // that an interrupted handler is counted too
      return Effect.onExit(body, (exit): Effect.Effect<void, never, R> => {
        active--
        if (Exit.isSuccess(exit)) {
          succeeded++
          return Effect.void
        }
        if (Cause.hasInterruptsOnly(exit.cause)) {
          if (shuttingDown) aborted++
          return Effect.void
        }
        failed++
        const error = new HandlerError<E>({ cause: exit.cause, remoteAddress: peer })
        if (policy === "stop") {
          firstFailure ??= error
          // from outside this handler's fiber: shutdown waits for the handlers
          return Effect.asVoid(Effect.forkDetach(shutdown))
        }
        return policy(error)
      }).pipe(Effect.ignore)
    }

    // per connection: no generator (one runs per accepted socket)
    const start = (socket: Socket.Socket) =>
      Effect.suspend(() => {
        accepted++
        active++
        const one = permits === undefined ? runOne(socket) : Effect.ensuring(runOne(socket), permits.release(1))
        return FiberSet.run(fibers, one)
      })
    const acceptLoop = server.accept.pipe(
      Stream.runForEach((socket) =>
        permits === undefined
          ? start(socket)
          : Effect.andThen(
            // waiting for a permit: the socket is unread; interrupted here, it is aborted
            Effect.onInterrupt(Semaphore.take(permits, 1), () => Scope.close(socket.scope, Exit.interrupt())),
            start(socket)
          )
      )
    )
    const acceptFiber = yield* Effect.forkIn(acceptLoop, handlersScope)

    let shutdownDone: Deferred.Deferred<void> | undefined
    const shutdown: Effect.Effect<void> = Effect.suspend(() => {
      if (shutdownDone !== undefined) return Deferred.await(shutdownDone)
      const done = Deferred.makeUnsafe<void>()
      shutdownDone = done
      shuttingDown = true
      return Effect.gen(function*() {
        yield* server.stopAccepting
        yield* Fiber.interrupt(acceptFiber)
        yield* Effect.timeoutOption(FiberSet.awaitEmpty(fibers), grace)
        yield* FiberSet.clear(fibers)
        yield* firstFailure === undefined ? Deferred.succeed(ended, undefined) : Deferred.fail(ended, firstFailure)
      }).pipe(
        Effect.ensuring(Deferred.succeed(done, undefined)),
        Effect.uninterruptible
      )
    })
    yield* Scope.addFinalizer(outer, shutdown)

    const serving: Serving<E> = {
      stats: Effect.sync(() => ({
        accepted,
        active,
        succeeded,
        failed,
        aborted,
        dropped: server.listener.dropped
      })),
      shutdown,
      await: Deferred.await(ended)
    }
    return serving
  })

/**
 * Serves every connection with `handler`, in the background of the current
 * scope.
 *
 * **Details**
 *
 * Each connection runs `handler` in its own fiber with its socket: when the
 * handler succeeds, the socket closes gracefully (flush + FIN); when it fails
 * or is interrupted, the socket is aborted (RST). Nothing is read from a
 * connection until its handler reads. `concurrency` bounds the handlers
 * running at once; `maxConnections` refuses (and counts) connections beyond
 * the limit. Handler failures are typed ({@link HandlerError}) and go to the
 * `onHandlerError` policy, never to a log.
 *
 * Closing the scope — or `Serving.shutdown` — shuts down gracefully: stop
 * accepting, let running handlers finish within `gracePeriod`, interrupt the
 * rest. Invalid options (a `concurrency` below 1, a `maxConnections` that is
 * not an integer ≥ 0, a negative `gracePeriod`) fail with a `ListenError`
 * whose reason is `InvalidOptions`, before anything is served.
 *
 * **Example** (An echo server)
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Network, Server } from "@sluice/core"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* Network.listen({ host: "127.0.0.1", port: 7000 })
 *   const serving = yield* Server.serve(server, (socket) => Stream.run(socket.reads, socket.writes), {
 *     concurrency: 100,
 *     gracePeriod: "5 seconds"
 *   })
 *   yield* serving.await
 * })
 * ```
 *
 * @category serving
 * @since 0.1.0
 */
export const serve: {
  <A, E, R>(
    handler: (socket: Socket.Socket) => Effect.Effect<A, E, R>,
    options?: ServeOptions<E, R>
  ): (server: Server) => Effect.Effect<Serving<E>, ListenError, R | Scope.Scope>
  <A, E, R>(
    server: Server,
    handler: (socket: Socket.Socket) => Effect.Effect<A, E, R>,
    options?: ServeOptions<E, R>
  ): Effect.Effect<Serving<E>, ListenError, R | Scope.Scope>
} = dual((args) => isServer(args[0]), serveImpl)
