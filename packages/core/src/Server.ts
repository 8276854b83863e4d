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
import * as Latch from "effect/Latch"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as Address from "./Address.ts"
import type { DriverError, Endpoint, TcpEndpoint } from "./Driver.ts"
import type { Connection, Listener } from "./Engine.ts"
import { millisOrMessage } from "./internal/duration.ts"
import { handshakeFields } from "./internal/handshake.ts"
import { show } from "./internal/show.ts"
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
 * A listening server. `Address` is the kind of address it listens on:
 * `Network.listen` gives a `Server<TcpEndpoint>` for a host and port, a
 * `Server<IpcEndpoint>` for a path, a `Server` (either) otherwise.
 *
 * @category models
 * @since 0.1.0
 */
export interface Server<Address extends Endpoint = Endpoint> extends Pipeable {
  readonly [TypeId]: typeof TypeId
  /**
   * The bound address, exact: the real port when listening on port 0, the
   * path for IPC.
   */
  readonly address: Address
  /**
   * The bound port (the real one when listening on port 0): a `number` for a
   * TCP server, `undefined` for an IPC server.
   */
  readonly port: Address extends TcpEndpoint ? number : undefined
  /**
   * Accepted connections, in arrival order. Each socket lives in its own scope,
   * a child of the server's: close it with `Socket.use`, or let the server's
   * scope close it. Nothing is read from a connection until its `reads` is
   * pulled. The stream ends when the server stops accepting. Pull it once.
   * A hand-written loop over `accept` dies with the first handler that fails
   * (a client's reset included): {@link serve} keeps serving.
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
  /**
   * Connections dropped because `maxConnections` was reached (Node's
   * `drop`): closed as they arrived, or reset with `dropWith: "reset"`.
   */
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
   * are dropped (see {@link ServeOptions.maxConnections}) and counted. A
   * limit that is not an integer ≥ 0 fails with `InvalidOptions`.
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
): Server => {
  const address = listener.endpoint()
  return {
    [TypeId]: TypeId,
    pipe() {
      return pipeArguments(this, arguments)
    },
    address,
    port: address._tag === "Tcp" ? address.port : undefined,
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
  }
}

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
 * A connection handler failed (or died) by itself: not because its peer
 * ended the connection (see {@link serve}). Carries the full cause, typed
 * with the handler's error, and the peer's address.
 *
 * @category errors
 * @since 0.1.0
 */
export class HandlerError<E> extends Data.TaggedError("HandlerError")<{
  readonly cause: Cause.Cause<E>
  readonly remoteAddress: Endpoint | undefined
}> {
  override get message(): string {
    return `${summary(this.remoteAddress)}: ${Cause.pretty(this.cause)}`
  }
}

const summary = (peer: Endpoint | undefined): string =>
  `connection handler for ${peer === undefined ? "unknown peer" : Address.format(peer)} failed`

/**
 * What a handler can observe of the server's shutdown. One value per
 * {@link serve}, shared by every handler: observing it costs nothing until
 * a handler waits on it.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server } from "@sluice/core"
 *
 * declare const server: Server.Server
 * // a long-lived connection says goodbye when shutdown begins, then ends
 * const program = Server.serve(server, (socket, shutdown) =>
 *   Effect.raceFirst(
 *     Stream.run(socket.reads, socket.writes),
 *     Effect.andThen(shutdown.await, socket.write("server shutting down, bye\n"))
 *   ))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ShutdownSignal {
  /**
   * Waits until shutdown begins (`Serving.shutdown`, the scope closing, or
   * the `"stop"` policy): the server has stopped accepting and the grace
   * period is running. Succeeds at once once it has begun.
   */
  readonly await: Effect.Effect<void>
  /** `true` once shutdown has begun. */
  readonly isShuttingDown: Effect.Effect<boolean>
}

/**
 * A connection handler: the socket and the server's {@link ShutdownSignal}.
 *
 * @category models
 * @since 0.1.0
 */
export type Handler<A, E, R> = (socket: Socket.Socket, shutdown: ShutdownSignal) => Effect.Effect<A, E, R>

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
   * Limit of open connections (waiting ones included). A connection beyond
   * it is dropped as it arrives, as node:net does: closed (the client's
   * connect succeeds, then its reads end — or fail with `ConnectionReset` if
   * it had sent bytes), or reset with `dropWith: "reset"`. Counted in
   * {@link ServeStats.dropped}.
   */
  readonly maxConnections?: number | undefined
  /**
   * How a connection beyond `maxConnections` is dropped: `"close"` (default,
   * node:net's behaviour: an end of input a client cannot tell from a normal
   * close) or `"reset"` (RST: the client sees `ConnectionReset`, so it can
   * tell a refusal and retry elsewhere).
   */
  readonly dropWith?: "close" | "reset" | undefined
  /**
   * At shutdown, how long running handlers may take to finish before they are
   * interrupted and their sockets aborted (default 10 seconds).
   */
  readonly gracePeriod?: Duration.Input | undefined
  /**
   * What to do when a handler fails or dies by itself:
   *
   * - `"log"` (default): log it at error level with its cause, inside the
   *   connection's `sluice.connection` span (Effect's logger: replace it to
   *   send it elsewhere), and keep serving;
   * - `"stop"`: shut the server down gracefully; `Serving.await` fails with
   *   the {@link HandlerError};
   * - a function: report the failure (log it, count it, alert) and keep
   *   serving. It runs inside the connection's span.
   *
   * A connection its peer ended is not a failure (see {@link serve}), nor is
   * interruption at shutdown. Every failure is counted in
   * {@link ServeStats.failed}.
   */
  readonly onHandlerError?: "log" | "stop" | ((error: HandlerError<E>) => Effect.Effect<void, never, R>) | undefined
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
  /**
   * Handlers that ended because the peer or the network ended their
   * connection: a reset, a broken pipe, an idle timeout, an abort, or an end
   * of input the handler did not handle (see {@link serve}).
   */
  readonly disconnected: number
  /** Handlers that failed or died by themselves. */
  readonly failed: number
  /** Handlers interrupted at the end of the grace period. */
  readonly aborted: number
  /** Connections dropped because `maxConnections` was reached. */
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
   * Idempotent; closing the scope `serve` ran in does the same. Not for a
   * handler to call: it waits for every handler, its own included.
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
    : `maxConnections: expected an integer ≥ 0, got ${show(max)}`

/** The message naming the first invalid argument of `serve`, if there is one. */
const checkServe = <E, R>(handler: unknown, options: ServeOptions<E, R> | undefined): string | undefined => {
  if (typeof handler !== "function") return `handler: expected a function, got ${show(handler)}`
  if (options === undefined) return undefined
  if (typeof options !== "object" || options === null) return `options: expected an object, got ${show(options)}`
  const { concurrency, dropWith, onHandlerError } = options
  if (
    concurrency !== undefined && concurrency !== "unbounded" && !(Number.isInteger(concurrency) && concurrency >= 1)
  ) {
    return `concurrency: expected an integer ≥ 1 or "unbounded", got ${show(concurrency)}`
  }
  const max = checkMaxConnections(options.maxConnections)
  if (max !== undefined) return max
  if (dropWith !== undefined && dropWith !== "close" && dropWith !== "reset") {
    return `dropWith: expected "close" or "reset", got ${show(dropWith)}`
  }
  if (
    onHandlerError !== undefined && onHandlerError !== "log" && onHandlerError !== "stop"
    && typeof onHandlerError !== "function"
  ) {
    return `onHandlerError: expected "log", "stop" or a function, got ${show(onHandlerError)}`
  }
  return undefined
}

/**
 * How the peer ended a connection whose handler failed with `cause`:
 * `"clean"` when every failure is the end of input the socket's reader
 * reached, `"abrupt"` when some are the connection's own peer failures (a
 * reset, ...), `undefined` when the handler failed by itself (a defect, any
 * other error). Interruptions alongside do not count.
 */
const peerEnd = (socket: Socket.Socket, cause: Cause.Cause<unknown>): "clean" | "abrupt" | undefined => {
  let outcome: "clean" | "abrupt" | undefined
  for (const reason of cause.reasons) {
    if (reason._tag === "Interrupt") continue
    if (reason._tag === "Die" || !Socket.isPeerEnd(socket, reason.error)) return undefined
    outcome = outcome === "abrupt" || !Cause.isDone(reason.error) ? "abrupt" : "clean"
  }
  return outcome
}

/** How a socket is closed after its handler succeeded or its peer ended cleanly. */
const closedGracefully: Exit.Exit<unknown, unknown> = Exit.void

const logFailure = (error: HandlerError<unknown>): Effect.Effect<void> =>
  Effect.annotateLogs(
    Effect.logError(summary(error.remoteAddress), error.cause),
    "sluice.peer",
    error.remoteAddress === undefined ? "unknown" : Address.format(error.remoteAddress)
  )

const serveImpl = <A, E, R>(
  server: Server,
  handler: Handler<A, E, R>,
  options?: ServeOptions<E, R>
): Effect.Effect<Serving<E>, ListenError, R | Scope.Scope> =>
  Effect.gen(function*() {
    const invalid = checkServe(handler, options)
    // absent is the default; `null` is not a duration (as connect and listen read it)
    const graceMs = options?.gracePeriod === undefined ? 10_000 : millisOrMessage("gracePeriod", options.gracePeriod)
    if (invalid !== undefined || typeof graceMs === "string") {
      return yield* new ListenError(invalidOptions("serve", invalid ?? String(graceMs)))
    }
    const concurrency = options?.concurrency ?? "unbounded"
    const grace = graceMs === undefined ? Duration.infinity : Duration.millis(graceMs)
    const outer = yield* Scope.Scope
    const handlersScope = yield* Scope.fork(outer)
    const fibers = yield* Scope.provide(FiberSet.make<unknown, unknown>(), handlersScope)
    const permits = concurrency === "unbounded" ? undefined : yield* Semaphore.make(concurrency)
    const policy = options?.onHandlerError ?? "log"
    const ended = yield* Deferred.make<void, HandlerError<E>>()
    // one signal for every handler: nothing per connection until one waits on it
    const shutdownStarted = Latch.makeUnsafe(false)
    let accepted = 0
    let active = 0
    let succeeded = 0
    let disconnected = 0
    let failed = 0
    let aborted = 0
    let shuttingDown = false
    let firstFailure: HandlerError<E> | undefined
    const signal: ShutdownSignal = {
      await: shutdownStarted.await,
      isShuttingDown: Effect.sync(() => shuttingDown)
    }
    if (options?.maxConnections !== undefined) server.listener.maxConnections = options.maxConnections
    if (options?.dropWith !== undefined) server.listener.dropWith = options.dropWith

    // The handler's finalizer, inside the connection's span: it closes the
    // socket (gracefully after a success or a clean end of input, with RST
    // otherwise), counts the outcome and reports a failure. As a finalizer it
    // runs for an interrupted handler too.
    const finish = (socket: Socket.Socket, exit: Exit.Exit<A, E>): Effect.Effect<void, never, R> => {
      active--
      let outcome: "success" | "interrupted" | "disconnected" | "failure"
      let after: Effect.Effect<void, never, R> = Effect.void
      let graceful = false
      if (Exit.isSuccess(exit)) {
        succeeded++
        outcome = "success"
        graceful = true
      } else if (Cause.hasInterruptsOnly(exit.cause)) {
        if (shuttingDown) aborted++
        outcome = "interrupted"
      } else {
        const byPeer = peerEnd(socket, exit.cause)
        if (byPeer !== undefined) {
          disconnected++
          outcome = "disconnected"
          graceful = byPeer === "clean"
          if (!graceful) after = Effect.logDebug("connection ended by the peer", exit.cause)
        } else {
          failed++
          outcome = "failure"
          const error = new HandlerError<E>({ cause: exit.cause, remoteAddress: socket.remoteAddress })
          if (policy === "stop") {
            firstFailure ??= error
            // from outside this handler's fiber: shutdown waits for the handlers
            after = Effect.asVoid(Effect.forkDetach(shutdown))
          } else {
            after = policy === "log" ? logFailure(error) : policy(error)
          }
        }
      }
      return Effect.andThen(
        Scope.close(socket.scope, graceful ? closedGracefully : exit),
        Effect.andThen(
          Effect.annotateCurrentSpan({
            "sluice.bytes_in": socket.connection.bytesRead,
            "sluice.bytes_out": socket.connection.bytesWritten,
            "sluice.outcome": outcome
          }),
          after
        )
      )
    }

    const runOne = (socket: Socket.Socket): Effect.Effect<unknown, never, R> =>
      Effect.exit(Effect.withSpan(
        Effect.onExit(Effect.suspend(() => handler(socket, signal)), (exit) => finish(socket, exit)),
        "sluice.connection",
        {
          kind: "server",
          attributes: Observability.putEndpointAttributes(
            Observability.endpointAttributes("net.peer", socket.remoteAddress),
            "net.local",
            socket.localAddress
          ),
          captureStackTrace: false
        }
      ))

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
      shutdownStarted.openUnsafe()
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
        disconnected,
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
 * scope, until the scope closes.
 *
 * **Details**
 *
 * Each connection runs `handler(socket, shutdown)` in its own fiber, inside
 * a `sluice.connection` span. Nothing is read from a connection until its
 * handler reads. `concurrency` bounds the handlers running at once;
 * `maxConnections` drops (and counts) connections beyond the limit.
 *
 * How a handler ends decides what happens to its connection, and to the
 * server:
 *
 * - it succeeds: the socket closes gracefully (flush + FIN);
 * - the peer ended the connection: it fails with an error its own socket
 *   raised because of the peer or the network — a `SocketError` with reason
 *   `ConnectionReset`, `BrokenPipe`, `ConnectionAborted`, `TimedOut` (the
 *   idle timeout), `NetworkUnreachable` or `HostUnreachable`, or the clean
 *   end of input (`Cause.Done`) it pulled past (the rule is
 *   `Socket.isPeerEnd`). That ends this connection only (gracefully after a
 *   clean end), is counted in `disconnected`, and is logged at debug level
 *   only. Errors from other sockets, wrapped or mapped errors, and `Closed`
 *   are not the peer's doing;
 * - it fails or dies by itself: the socket is aborted (RST), the failure is
 *   counted in `failed` and goes to `onHandlerError` — logged with its cause
 *   in the connection's span by default, serving continues; `"stop"` shuts
 *   the server down instead;
 * - it is interrupted (shutdown): the socket is aborted (RST).
 *
 * Closing the scope — or `Serving.shutdown` — shuts down gracefully: stop
 * accepting, open the {@link ShutdownSignal} handlers observe (so a
 * long-lived handler can say goodbye), let running handlers finish within
 * `gracePeriod`, interrupt the rest.
 *
 * Invalid arguments (a `handler` that is not a function, a `concurrency`
 * below 1, a `maxConnections` that is not an integer ≥ 0, a `dropWith` or
 * `onHandlerError` outside its choices, a negative `gracePeriod`) fail with
 * a `ListenError` whose reason is `InvalidOptions` naming the field, before
 * anything is served.
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
    handler: Handler<A, E, R>,
    options?: ServeOptions<E, R>
  ): (server: Server) => Effect.Effect<Serving<E>, ListenError, R | Scope.Scope>
  <A, E, R>(
    server: Server,
    handler: Handler<A, E, R>,
    options?: ServeOptions<E, R>
  ): Effect.Effect<Serving<E>, ListenError, R | Scope.Scope>
} = dual((args) => isServer(args[0]), serveImpl)
