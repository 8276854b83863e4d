/**
 * Test fixtures for networked code, for `@effect/vitest`.
 *
 * The same test body runs on the memory network ({@link layerMemory}: virtual
 * time, faults, no real sockets) or on real loopback sockets ({@link layer}
 * with the node adapter's driver). {@link serve} starts a server with a
 * handler and hands back its address; {@link checked} runs the body in its
 * own scope and fails with a {@link LeakError} if any socket or listener is
 * still open when that scope has closed, and with the handler's own failure
 * (a `Server.HandlerError`) if a handler started by {@link serve} failed.
 *
 * @example
 * ```ts
 * import { assert, it } from "@effect/vitest"
 * import { Effect, Stream } from "effect"
 * import { Testing } from "@sluice/core"
 *
 * const echo = Effect.gen(function*() {
 *   const server = yield* Testing.serve((socket) => Stream.run(socket.reads, socket.writes))
 *   const client = yield* server.connect()
 *   yield* client.write("ping")
 *   yield* client.endOfOutput
 *   const reply = yield* Stream.mkString(Stream.decodeText(client.reads))
 *   assert.strictEqual(reply, "ping")
 * })
 *
 * it.effect("echo on the memory network", () => Testing.run(Testing.layerMemory(), echo))
 * // and on real sockets: it.live("echo on loopback", () => Testing.run(Testing.layer(NodeDriver.driver), echo))
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Address from "./Address.ts"
import type { Driver, DriverError, Endpoint, Handle, HandleEvents, ListenerHandle } from "./Driver.ts"
import * as MemoryNetwork from "./MemoryNetwork.ts"
import type { ConnectError, ListenError } from "./NetError.ts"
import * as Network from "./Network.ts"
import * as Server from "./Server.ts"
import type * as Socket from "./Socket.ts"

/**
 * Something still open: a listener or one end of a connection, with its
 * `description` (`127.0.0.1:5000`, or `127.0.0.1:41234 -> 127.0.0.1:5000` for
 * a connection end).
 *
 * @category models
 * @since 0.1.0
 */
export const OpenResource = Schema.Struct({
  kind: Schema.Literals(["listener", "connection"]),
  description: Schema.String
})

/**
 * Something still open (see the {@link OpenResource} schema).
 *
 * @category models
 * @since 0.1.0
 */
export type OpenResource = typeof OpenResource.Type

/**
 * Sockets or listeners were still open when the test's scope closed.
 *
 * @category errors
 * @since 0.1.0
 */
export class LeakError extends Schema.TaggedError<LeakError>()("LeakError", {
  open: Schema.Array(OpenResource)
}) {
  override get message(): string {
    const n = this.open.length
    const list = this.open.map((r) => `${r.kind} ${r.description}`).join(", ")
    return `${n} ${n === 1 ? "socket" : "sockets"} still open when the test's scope closed: ${list}`
  }
}

/**
 * The open-resource tracker of a fixture network.
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketsShape {
  /** What is open now. */
  readonly open: () => ReadonlyArray<OpenResource>
}

/**
 * The tracker in context (provided by {@link layer} and {@link layerMemory}).
 *
 * @category services
 * @since 0.1.0
 */
export class Sockets extends Context.Service<Sockets, SocketsShape>()("@sluice/core/Testing/Sockets") {}

const format = (e: Endpoint | undefined): string => e === undefined ? "?" : Address.format(e)

class TrackedHandle implements Handle {
  readonly inner: Handle
  private readonly registry: Map<object, OpenResource>
  constructor(inner: Handle, registry: Map<object, OpenResource>) {
    this.inner = inner
    this.registry = registry
    registry.set(this, {
      kind: "connection",
      description: `${format(inner.localEndpoint())} -> ${format(inner.remoteEndpoint())}`
    })
  }
  bind(events: HandleEvents): void {
    this.inner.bind(events)
  }
  borrowReads(): void {
    this.inner.borrowReads?.()
  }
  readStart(): void {
    this.inner.readStart()
  }
  readStop(): void {
    this.inner.readStop()
  }
  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean | void {
    return this.inner.write(chunks, callback)
  }
  get writeQueueSize(): number {
    return this.inner.writeQueueSize
  }
  shutdown(callback: (error: DriverError | undefined) => void): void {
    this.inner.shutdown(callback)
  }
  close(callback: () => void): void {
    this.registry.delete(this)
    this.inner.close(callback)
  }
  reset(callback: () => void): void {
    this.registry.delete(this)
    this.inner.reset(callback)
  }
  closing(graceMs: number): void {
    this.inner.closing?.(graceMs)
  }
  localEndpoint(): Endpoint | undefined {
    return this.inner.localEndpoint()
  }
  remoteEndpoint(): Endpoint | undefined {
    return this.inner.remoteEndpoint()
  }
  setNoDelay(enable: boolean): void {
    this.inner.setNoDelay(enable)
  }
  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.inner.setKeepAlive(enable, initialDelayMs)
  }
  ref(): void {
    this.inner.ref()
  }
  unref(): void {
    this.inner.unref()
  }
}

/**
 * Wraps a driver so that every handle and listener it opens is tracked until
 * it is closed or reset. Works over any driver (memory or real sockets).
 *
 * @category constructors
 * @since 0.1.0
 */
export const track = (driver: Driver): { readonly driver: Driver; readonly sockets: SocketsShape } => {
  const registry = new Map<object, OpenResource>()
  const tracked: Driver = {
    name: driver.name,
    capabilities: driver.capabilities,
    timers: driver.timers,
    lookup: (hostname, options, callback) => driver.lookup(hostname, options, callback),
    connect: (target, callback, hooks) =>
      driver.connect(
        target,
        (error, handle) => callback(error, handle === undefined ? undefined : new TrackedHandle(handle, registry)),
        hooks
      ),
    listen: (target, events, callback) =>
      driver.listen(target, {
        onConnection: (handle) => events.onConnection(new TrackedHandle(handle, registry)),
        onError: (error) => events.onError(error)
      }, (error, listener) => {
        if (listener === undefined) return callback(error, undefined)
        const key = {}
        registry.set(key, { kind: "listener", description: format(listener.endpoint()) })
        const wrapped: ListenerHandle = {
          endpoint: () => listener.endpoint(),
          close: (cb) => {
            registry.delete(key)
            listener.close(cb)
          },
          ref: () => listener.ref(),
          unref: () => listener.unref()
        }
        callback(error, wrapped)
      })
  }
  return { driver: tracked, sockets: { open: () => [...registry.values()] } }
}

/**
 * Provides `Network` over `driver`, tracked by {@link Sockets}. For real
 * loopback sockets pass the node adapter's driver (`NodeDriver.driver`) and
 * run the test with `it.live`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (driver: Driver): Layer.Layer<Network.Network | Sockets> =>
  Layer.effectContext(Effect.sync(() => {
    const t = track(driver)
    return Context.make(Sockets, t.sockets).pipe(Context.add(Network.Network, Network.make(t.driver)))
  }))

/**
 * Provides `Network` over a fresh memory network on the context's `Clock`
 * (`TestClock` under `it.effect`), the {@link MemoryNetwork.MemoryNetwork}
 * controls, and the {@link Sockets} tracker. Bad options fail the layer with
 * `MemoryNetwork.InvalidOptions` naming the field.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory = (
  options?: MemoryNetwork.Options
): Layer.Layer<Network.Network | MemoryNetwork.MemoryNetwork | Sockets, MemoryNetwork.InvalidOptions> =>
  Layer.effectContext(Effect.map(MemoryNetwork.makeEffect(options), (network) => {
    const t = track(network.driver)
    return Context.make(Sockets, t.sockets).pipe(
      Context.add(MemoryNetwork.MemoryNetwork, network),
      Context.add(Network.Network, Network.make(t.driver))
    )
  }))

/**
 * Fails with {@link LeakError} when a socket or listener is open.
 *
 * @category assertions
 * @since 0.1.0
 */
export const assertNoneOpen: Effect.Effect<void, LeakError, Sockets> = Sockets.use((sockets) =>
  Effect.suspend(() => {
    const open = sockets.open()
    return open.length === 0 ? Effect.void : Effect.fail(new LeakError({ open }))
  })
)

/**
 * Where {@link serve} reports its handlers' failures: the list of the test
 * {@link checked} runs, or none outside one.
 */
const HandlerFailures = Context.Reference<Array<Server.HandlerError<unknown>> | undefined>(
  "@sluice/core/Testing/HandlerFailures",
  { defaultValue: () => undefined }
)

/**
 * Runs `body` in its own scope, then fails with {@link LeakError} if
 * anything it opened is still open after that scope closed.
 *
 * A handler started by {@link serve} in `body` that failed or died by itself
 * (see `Server.serve`: not a peer's reset) fails the test too, once the
 * scope has closed: with the `Server.HandlerError` carrying the handler's
 * cause, alongside the body's own failure if it failed as well (a client
 * that saw the handler's socket aborted, say).
 *
 * @category assertions
 * @since 0.1.0
 */
export const checked = <A, E, R>(
  body: Effect.Effect<A, E, R>
): Effect.Effect<A, E | LeakError | Server.HandlerError<unknown>, Exclude<R, Scope.Scope> | Sockets> =>
  Effect.suspend(() => {
    const failures: Array<Server.HandlerError<unknown>> = []
    return Effect.flatMap(
      Effect.exit(Effect.provideService(Effect.scoped(body), HandlerFailures, failures)),
      (exit): Effect.Effect<A, E | LeakError | Server.HandlerError<unknown>, Sockets> => {
        if (failures.length === 0) return Effect.flatMap(exit, (a) => Effect.as(assertNoneOpen, a))
        let cause: Cause.Cause<E | Server.HandlerError<unknown>> = Exit.isFailure(exit) ? exit.cause : Cause.empty
        for (const failure of failures) cause = Cause.combine(cause, Cause.fail(failure))
        return Effect.failCause(cause)
      }
    )
  })

/**
 * Runs a test body on a fixture network: `checked(body)` provided with
 * `network` ({@link layerMemory} or {@link layer}).
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Testing } from "@sluice/core"
 * import { Effect } from "effect"
 *
 * declare const body: Effect.Effect<void, never, import("@sluice/core").Network.Network>
 * it.effect("on memory", () => Testing.run(Testing.layerMemory({ seed: 3 }), body))
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run = <A, E, R, ROut, E2>(
  network: Layer.Layer<ROut | Sockets, E2>,
  body: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | E2 | LeakError | Server.HandlerError<unknown>,
  Exclude<Exclude<R, Scope.Scope>, ROut | Sockets>
> => Effect.provide(checked(body), network)

/**
 * A server started by {@link serve}.
 *
 * @category models
 * @since 0.1.0
 */
export interface TestServer<E> {
  readonly server: Server.Server
  readonly address: Endpoint
  /** The host to dial (`undefined` for an IPC path). */
  readonly host: string | undefined
  /** The bound port (`0` for an IPC path). */
  readonly port: number
  readonly serving: Server.Serving<E>
  /** Dials the server (extra options are merged in). */
  readonly connect: (options?: Network.ConnectOptions) => Effect.Effect<Socket.Socket, ConnectError, Scope.Scope>
}

/**
 * Options of {@link serve}: where to listen (default `127.0.0.1`, an
 * ephemeral port; with `path` or `fd`, no host or port is added) and how to
 * serve. The grace period at shutdown defaults to
 * zero, so a handler still running when the test ends is interrupted at once.
 * Without `onHandlerError`, a handler's own failure fails the test run by
 * {@link run} or {@link checked} (elsewhere it is logged, as `Server.serve`
 * does).
 *
 * @category models
 * @since 0.1.0
 */
export type ServeOptions<E, R> = Network.ListenOptions & Server.ServeOptions<E, R>

/**
 * Listens and serves every connection with `handler` until the scope closes;
 * returns the address and a `connect` for it.
 *
 * @category fixtures
 * @since 0.1.0
 */
export const serve = <A, E, R>(
  handler: Server.Handler<A, E, R>,
  options?: ServeOptions<E, R>
): Effect.Effect<TestServer<E>, ListenError, Network.Network | Scope.Scope | R> =>
  Effect.gen(function*() {
    const network = yield* Network.Network
    const failures = yield* HandlerFailures
    const { concurrency, dropWith, gracePeriod, maxConnections, onHandlerError, ...listenOptions } = options ?? {}
    // a TCP listen's defaults; a path or an inherited descriptor takes no host or port
    const listen: Network.ListenOptions = listenOptions.path === undefined && listenOptions.fd === undefined
      ? { host: "127.0.0.1", port: 0, ...listenOptions }
      : listenOptions
    const server = yield* network.listen(listen)
    const serving = yield* Server.serve(server, handler, {
      concurrency,
      maxConnections,
      dropWith,
      // only an absent option takes the fixture's default: serve refuses a `null`
      onHandlerError: onHandlerError !== undefined || failures === undefined
        ? onHandlerError
        : (error) => Effect.sync(() => failures.push(error)),
      gracePeriod: gracePeriod === undefined ? Duration.zero : gracePeriod
    })
    const address = server.address
    const target: Network.ConnectOptions = address._tag === "Ipc"
      ? { path: address.path }
      : {
        host: address.address === "::" ? "::1" : address.address === "0.0.0.0" ? "127.0.0.1" : address.address,
        port: address.port
      }
    return {
      server,
      address,
      host: address._tag === "Tcp" ? target.host : undefined,
      port: address._tag === "Tcp" ? address.port : 0,
      serving,
      connect: (options) => network.connect({ ...target, ...options })
    }
  })
