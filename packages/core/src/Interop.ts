/**
 * Interop with effect's own `effect/socket`: a Sluice socket as an
 * `effect/socket` `Socket`, a client `Socket` that connects through the
 * `Network`, and a layer providing effect's `SocketServer` over a Sluice
 * server — so `effect/rpc`, and anything else written against
 * `effect/socket`, runs over Sluice (real sockets or the memory network).
 *
 * **Mapping**
 *
 * - reads: a clean end of input fails the pull with a `SocketCloseError`
 *   with code 1000 (effect's sockets have no clean end); a Sluice
 *   `SocketError` becomes a `SocketReadError` whose `cause` is the Sluice
 *   error, reason and errno intact;
 * - writes: a Sluice write failure becomes a `SocketWriteError` with the
 *   Sluice error as `cause`; writing a `CloseEvent` closes the connection
 *   gracefully; releasing the writer half-closes (FIN);
 * - closing the reader's scope closes the connection, which fails a pending
 *   pull, as the `effect/socket` contract asks: gracefully (flush + FIN)
 *   when the scope closes normally, is interrupted, or fails with a normal
 *   close (`SocketCloseError` 1000, the clean end of input) or with the
 *   peer's end of the connection (a reset, ...); with RST when it fails
 *   otherwise;
 * - served by {@link makeSocketServer}, a handler that fails with a normal
 *   close has succeeded, and one that fails or dies (effect/rpc turns read
 *   errors into defects) with the peer's end of the connection was ended by
 *   its peer (`Socket.isPeerEnd`): neither is reported as a handler failure.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Latch from "effect/Latch"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import type { Endpoint } from "./Driver.ts"
import { encodeUtf8 } from "./internal/text.ts"
import type * as NetError from "./NetError.ts"
import * as Network from "./Network.ts"
import * as Server from "./Server.ts"
import * as Socket from "./Socket.ts"

const closeError = (code: number, closeReason?: string) =>
  new EffectSocket.SocketError({ reason: new EffectSocket.SocketCloseError({ code, closeReason }) })

const readError = (error: NetError.SocketError): EffectSocket.SocketError =>
  error.reason === "Closed"
    ? closeError(1000, error.message)
    : new EffectSocket.SocketError({ reason: new EffectSocket.SocketReadError({ cause: error }) })

const writeError = (error: NetError.SocketError): EffectSocket.SocketError =>
  new EffectSocket.SocketError({ reason: new EffectSocket.SocketWriteError({ cause: error }) })

const pullOf = (socket: Socket.Socket): Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, EffectSocket.SocketError> =>
  Effect.mapError(socket.pull, (error) => Cause.isDone(error) ? closeError(1000) : readError(error))

const toBytes = (chunk: Uint8Array | string): Uint8Array => typeof chunk === "string" ? encodeUtf8(chunk) : chunk

const writerOf = (current: () => Socket.Socket | undefined, latch: Latch.Latch | undefined): EffectSocket.Writer => {
  const whenOpen = <A, E>(f: (socket: Socket.Socket) => Effect.Effect<A, E>): Effect.Effect<A, E> => {
    const run = Effect.suspend(() => {
      const socket = current()
      return socket === undefined ? Effect.die("unreachable: no current socket") : f(socket)
    })
    return latch === undefined ? run : Latch.whenOpen(latch, run)
  }
  return {
    write: (chunk) =>
      whenOpen((socket) =>
        EffectSocket.isCloseEvent(chunk)
          ? Effect.andThen(Effect.ignore(socket.endOfOutput), Effect.asVoid(Effect.exit(closeScope(socket))))
          : Effect.mapError(socket.write(toBytes(chunk)), writeError)
      ),
    writeAll: (chunks) => whenOpen((socket) => Effect.mapError(socket.writeAll(chunks.map(toBytes)), writeError))
  }
}

const closeScope = (socket: Socket.Socket): Effect.Effect<void> => Scope.close(socket.scope, Exit.void)

/** effect/socket's normal close: code 1000 (a clean end of input, or a close this side asked for). */
const isNormalClose = (u: unknown): boolean =>
  EffectSocket.isSocketError(u) && u.reason._tag === "SocketCloseError" && u.reason.code === 1000

/** The Sluice error under `u` (an effect/socket read or write error, or itself) when it is the peer's end of `socket`. */
const peerErrorOf = (socket: Socket.Socket, u: unknown): unknown => {
  const inner = EffectSocket.isSocketError(u)
    ? u.reason._tag === "SocketReadError" || u.reason._tag === "SocketWriteError" ? u.reason.cause : undefined
    : u
  return inner !== undefined && Socket.isPeerEnd(socket, inner) ? inner : undefined
}

/**
 * How the peer or a normal close ended `socket`, judged from a cause:
 * `{ peer }` (the first peer error) when some failure or defect is the peer's
 * end of the connection and the others normal closes, `"normal"` when all are
 * normal closes, `undefined` when something else failed. Interruptions
 * alongside do not count.
 */
const endOf = (
  socket: Socket.Socket,
  cause: Cause.Cause<unknown>
): "normal" | { readonly peer: unknown } | undefined => {
  let out: "normal" | { readonly peer: unknown } | undefined
  for (const reason of cause.reasons) {
    if (reason._tag === "Interrupt") continue
    const u = reason._tag === "Fail" ? reason.error : reason.defect
    if (isNormalClose(u)) {
      out ??= "normal"
      continue
    }
    const peer = peerErrorOf(socket, u)
    if (peer === undefined) return undefined
    if (out === undefined || out === "normal") out = { peer }
  }
  return out
}

/** Whether closing `socket` after `exit` is graceful (flush + FIN) for effect/socket: all but a real failure. */
const gracefulAfter = (socket: Socket.Socket, exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) || endOf(socket, exit.cause) !== undefined

/** Closes `socket` as effect/socket expects after `exit`: gracefully unless a real failure, then RST. */
const closeAfter = (socket: Socket.Socket, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  Scope.close(socket.scope, gracefulAfter(socket, exit) ? Exit.void : exit)

/**
 * Views an open Sluice socket as an `effect/socket` `Socket`. Acquiring its
 * `reader` hands out the connection's read side; closing that scope closes
 * the Sluice socket. Releasing the `writer` half-closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Interop, Network } from "@sluice/core"
 *
 * const program = Effect.gen(function*() {
 *   const socket = yield* Network.connect({ host: "127.0.0.1", port: 7000 })
 *   const effectSocket = Interop.toEffectSocket(socket)
 *   // hand effectSocket to anything written against effect/socket
 * })
 * ```
 *
 * @category converters
 * @since 0.1.0
 */
export const toEffectSocket = (socket: Socket.Socket): EffectSocket.Socket => {
  const pull = pullOf(socket)
  const reader: EffectSocket.Socket["reader"] = Effect.acquireRelease(
    Effect.succeed<EffectSocket.Reader>({ pull, upgrade: EffectSocket.SocketUpgradeError.unsupported }),
    (_, exit) => closeAfter(socket, exit)
  )
  const writer: EffectSocket.Socket["writer"] = Effect.acquireRelease(
    Effect.succeed(writerOf(() => socket, undefined)),
    () => Effect.ignore(socket.endOfOutput)
  )
  return EffectSocket.make({ reader, writer })
}

const openError = (error: NetError.ConnectError): EffectSocket.SocketError =>
  new EffectSocket.SocketError({
    reason: new EffectSocket.SocketOpenError({
      kind: error.reason === "TimedOut" ? "Timeout" : "Unknown",
      cause: error
    })
  })

/**
 * An `effect/socket` client `Socket` that connects with the `Network`:
 * every acquisition of its `reader` opens a new connection with `options`
 * (so effect's reconnecting consumers, such as the `effect/rpc` client,
 * reconnect); writes wait until a connection is open. A failed connect is a
 * `SocketOpenError` (`kind: "Timeout"` for `TimedOut`) whose `cause` is the
 * Sluice `ConnectError`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Socket as EffectSocket } from "effect/socket"
 * import { Interop } from "@sluice/core"
 *
 * const SocketLive = Layer.effect(EffectSocket.Socket)(
 *   Interop.makeEffectSocket({ host: "127.0.0.1", port: 7000, timeout: "5 seconds" })
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeEffectSocket = (
  options: Network.ConnectOptions
): Effect.Effect<EffectSocket.Socket, never, Network.Network> =>
  Effect.gen(function*() {
    const network = yield* Network.Network
    const latch = yield* Latch.make(false)
    let current: Socket.Socket | undefined
    const reader: EffectSocket.Socket["reader"] = Effect.gen(function*() {
      const socket = yield* Effect.mapError(network.connect(options), openError)
      current = socket
      latch.openUnsafe()
      yield* Effect.addFinalizer((exit) =>
        Effect.andThen(
          Effect.sync(() => {
            latch.closeUnsafe()
            if (current === socket) current = undefined
          }),
          closeAfter(socket, exit)
        )
      )
      return { pull: pullOf(socket), upgrade: EffectSocket.SocketUpgradeError.unsupported }
    })
    const writer: EffectSocket.Socket["writer"] = Effect.acquireRelease(
      Effect.succeed(writerOf(() => current, latch)),
      () => Effect.suspend(() => current === undefined ? Effect.void : Effect.ignore(current.endOfOutput))
    )
    return EffectSocket.make({ reader, writer })
  })

/**
 * Converts a Sluice endpoint to an `effect/net` `SocketAddress`.
 *
 * @category converters
 * @since 0.1.0
 */
export const toSocketAddress = (endpoint: Endpoint): NetAddress.SocketAddress =>
  NetAddress.socketAddressFromInputUnsafe(
    endpoint._tag === "Ipc" ? { path: endpoint.path } : { address: endpoint.address, port: endpoint.port }
  )

/**
 * Options of {@link makeSocketServer}.
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketServerOptions {
  /**
   * Reports a failed connection handler (effect's `SocketServer.run` handler
   * errors have nowhere else to go). Default: log it at error level in the
   * connection's span, as `Server.serve` does. A normal close and the peer's
   * end of the connection are not failures.
   */
  readonly onHandlerError?: ((error: Server.HandlerError<unknown>) => Effect.Effect<void>) | undefined
  /**
   * How long running handlers may take to finish when `run` is interrupted
   * (or the server's scope closes) before they are interrupted. Default 0:
   * as effect's own `SocketServer`s, interrupting `run` interrupts its
   * handlers at once (an effect/rpc handler reads until its client leaves,
   * it would only wait the whole period out, in virtual time too); each
   * connection then closes gracefully (flush + FIN).
   */
  readonly gracePeriod?: Server.ServeOptions<unknown, never>["gracePeriod"]
}

/**
 * Runs an effect/socket handler on a served Sluice socket: its connection
 * closes gracefully unless the handler really failed; a normal close is a
 * success, the peer's end a failure with the Sluice error (which `serve`
 * counts as `disconnected`).
 */
const serveOne = <A, E, R>(
  socket: Socket.Socket,
  handler: (socket: EffectSocket.Socket) => Effect.Effect<A, E, R>
): Effect.Effect<A | void, unknown, R> =>
  Effect.onExit(
    Effect.catchCause(handler(toEffectSocket(socket)), (cause) => {
      const end = endOf(socket, cause)
      return end === undefined ? Effect.failCause(cause) : end === "normal" ? Effect.void : Effect.fail(end.peer)
    }),
    (exit) => gracefulAfter(socket, exit) ? closeScope(socket) : Effect.void
  )

/** A Sluice listen or serve failure as effect's `SocketServerError`. */
const serverOpenError = (cause: NetError.ListenError): SocketServer.SocketServerError =>
  new SocketServer.SocketServerError({ reason: new SocketServer.SocketServerOpenError({ cause }) })

/**
 * Listens with the `Network` and exposes the server as effect's
 * `SocketServer`: `run(handler)` serves every connection with `handler`
 * (concurrently; interrupting it, or closing the scope, stops accepting,
 * interrupts the handlers after `gracePeriod` and closes each connection
 * gracefully) and never returns. A listen failure, or an invalid `gracePeriod` when `run` starts,
 * is a `SocketServerOpenError` whose `cause` is the Sluice `ListenError`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeSocketServer = (
  listenOptions: Network.ListenOptions,
  options?: SocketServerOptions
): Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Network.Network | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* Effect.mapError(Network.listen(listenOptions), serverOpenError)
    let running = false
    const run = <R, E, _>(
      handler: (socket: EffectSocket.Socket) => Effect.Effect<_, E, R>
    ): Effect.Effect<never, SocketServer.SocketServerError, R> =>
      Effect.suspend(() => {
        if (running) {
          return Effect.fail(
            new SocketServer.SocketServerError({
              reason: new SocketServer.SocketServerUnknownError({ cause: "SocketServer.run is already running" })
            })
          )
        }
        running = true
        return Effect.scoped(
          Effect.andThen(
            Effect.mapError(
              Server.serve(server, (socket) => serveOne(socket, handler), {
                onHandlerError: options?.onHandlerError ?? "log",
                gracePeriod: options?.gracePeriod ?? 0
              }),
              serverOpenError
            ),
            Effect.never
          )
        ).pipe(Effect.ensuring(Effect.sync(() => {
          running = false
        })))
      })
    return { address: toSocketAddress(server.address), run }
  })

/**
 * A layer providing effect's `SocketServer` over a Sluice server listening
 * with `listenOptions`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcServer } from "effect/rpc"
 * import { Interop } from "@sluice/core"
 * import { NodeNetwork } from "@sluice/node-adapter"
 *
 * const ProtocolLive = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide(Interop.layerSocketServer({ host: "127.0.0.1", port: 7000 })),
 *   Layer.provide(NodeNetwork.layer)
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerSocketServer = (
  listenOptions: Network.ListenOptions,
  options?: SocketServerOptions
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError, Network.Network> =>
  Layer.effect(SocketServer.SocketServer)(makeSocketServer(listenOptions, options))
