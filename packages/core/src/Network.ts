/**
 * The `Network` service: connect and listen, as scoped resources.
 *
 * Provided by `NodeNetwork.layer` (`@sluice/node-adapter`, real sockets) or
 * `MemoryNetwork.layer` (an in-process virtual network for tests). Every option
 * is checked, each read once: bad input (options that are not an object, a
 * value of the wrong type or range, a getter that throws, an option for
 * another kind of target) is a typed `InvalidOptions` error naming the field
 * and the value, never a thrown `TypeError`, and nothing is dialled or bound.
 * The exported Schemas accept the same values.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { isIP } from "./Address.ts"
import type { Driver, Endpoint, Handle, IpcEndpoint, ListenTarget, TcpEndpoint } from "./Driver.ts"
import * as Engine from "./Engine.ts"
import { acceptSecure, handshakeFields, Handshakes, runHandshake } from "./internal/handshake.ts"
import * as Options from "./internal/options.ts"
import * as TlsOptions from "./internal/tlsOptions.ts"
import type { ConnectAttempt } from "./NetError.ts"
import { ConnectError, fieldsFromDriver, invalidOptions, ListenError, unsupported } from "./NetError.ts"
import * as Observability from "./Observability.ts"
import * as Server from "./Server.ts"
import * as Socket from "./Socket.ts"
import * as Tls from "./Tls.ts"

const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Where: a host and port, or a path (IPC). An empty host or path is a mistake, not a default. */
const targetFields = {
  host: Schema.optional(Schema.NonEmptyString),
  port: Schema.optional(Port),
  path: Schema.optional(Schema.NonEmptyString)
}

/** How each socket behaves, for `connect` and for every socket a server accepts. */
const socketFields = {
  noDelay: Schema.optional(Schema.Boolean),
  keepAlive: Schema.optional(Schema.Boolean),
  allowHalfOpen: Schema.optional(Schema.Boolean),
  readHighWaterMark: Schema.optional(NonNegativeInt),
  writeHighWaterMark: Schema.optional(NonNegativeInt)
}

/**
 * The data part of {@link ConnectOptions}, as a Schema.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ConnectOptionsSchema = Schema.Struct({
  ...targetFields,
  localAddress: Schema.optional(
    Schema.String.check(Schema.makeFilter((s) => isIP(s) !== 0, { expected: "an IP address" }))
  ),
  localPort: Schema.optional(Port),
  family: Schema.optional(Schema.Literals([0, 4, 6])),
  hints: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0x7fffffff }))),
  autoSelectFamily: Schema.optional(Schema.Boolean),
  ...socketFields
})

/**
 * The durations of a socket, for `connect` and for every socket a server
 * accepts: a `Duration`, milliseconds, a bigint of nanoseconds, a string
 * (`"2 seconds"`, `"Infinity"`), a `[seconds, nanos]` pair or an object of unit
 * fields (`{ seconds: 2 }`). `NaN`, negative durations, `{}` and objects with
 * other fields are refused. Every `…Timeout` takes `0`, like `Infinity`, as
 * none (Node's rule).
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketDurations {
  /** Idle time before the first keep-alive probe, with `keepAlive` (finite; `0`: the platform's default). */
  readonly keepAliveInitialDelay?: Duration.Input | undefined
  /** Fail reads with `TimedOut` and abort after this long without activity (`0`: none, the default). */
  readonly idleTimeout?: Duration.Input | undefined
  /**
   * Bound of the graceful close at scope end; past it the socket is aborted
   * (default 10 seconds; `0`: no bound, the close waits for the flush).
   */
  readonly closeTimeout?: Duration.Input | undefined
}

/**
 * Options of `connect`: a `port` (with `host`, default `localhost`) or a
 * `path`. With a `path`, the TCP options (`host`, `port`, `localAddress`,
 * `localPort`, `family`, `hints`, `lookup`, `autoSelectFamily`,
 * `autoSelectFamilyAttemptTimeout`) are refused.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectOptions extends Partial<typeof ConnectOptionsSchema.Type>, SocketDurations {
  /** A replacement for the driver's name lookup (TCP only, as every option here but `timeout`). */
  readonly lookup?: Engine.LookupFunction | undefined
  /** One deadline over name lookup and every attempt (`0`: none, the default). */
  readonly timeout?: Duration.Input | undefined
  /**
   * Per-attempt timeout with `autoSelectFamily` (default 250 ms; `0`: none,
   * each attempt runs until it fails).
   */
  readonly autoSelectFamilyAttemptTimeout?: Duration.Input | undefined
  /**
   * Encrypt the connection with TLS: the socket is handed out once the
   * handshake succeeded, its `reads` and `writes` carry plaintext and
   * `socket.tls` says what the handshake settled. `timeout` bounds the
   * handshake too. Needs a TLS provider in context (`NodeTls.layer`), else
   * the connect fails with `Unsupported`.
   */
  readonly tls?: Tls.ClientOptions | undefined
}

/**
 * The data part of {@link ListenOptions}, as a Schema.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ListenOptionsSchema = Schema.Struct({
  ...targetFields,
  fd: Schema.optional(NonNegativeInt),
  backlog: Schema.optional(NonNegativeInt),
  exclusive: Schema.optional(Schema.Boolean),
  ipv6Only: Schema.optional(Schema.Boolean),
  reusePort: Schema.optional(Schema.Boolean),
  readableAll: Schema.optional(Schema.Boolean),
  writableAll: Schema.optional(Schema.Boolean),
  removeStaleSocket: Schema.optional(Schema.Boolean),
  maxConnections: Schema.optional(NonNegativeInt),
  ...socketFields
})

/**
 * Options of `listen`. The {@link SocketDurations} apply to every accepted
 * socket.
 *
 * The target is `path` when given, else `fd`, else a host and port (`port`
 * 0, the default, is ephemeral). An option for another kind of target is
 * refused: `host`, `port`, `ipv6Only`, `reusePort` with `path` or `fd`; `fd`
 * with `path`; `readableAll`, `writableAll`, `removeStaleSocket` without
 * `path`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenOptions extends Partial<typeof ListenOptionsSchema.Type>, SocketDurations {
  /**
   * Serve TLS: `accept` and `serve` hand out a connection once its handshake
   * succeeded; a failed handshake closes the connection and is counted in
   * `server.handshakeFailures`, never a failure of the server. Needs a TLS
   * provider in context (`NodeTls.layer`), else the listen fails with
   * `Unsupported`.
   */
  readonly tls?: Tls.ServerOptions | undefined
}

/**
 * The network: connect and listen.
 *
 * @category models
 * @since 0.1.0
 */
export interface NetworkShape {
  readonly driver: Driver
  /** Opens a connection that lives until the surrounding scope closes. */
  readonly connect: (options: ConnectOptions) => Effect.Effect<Socket.Socket, ConnectError, Scope.Scope>
  /** Binds and listens until the surrounding scope closes. */
  readonly listen: Listen<never>
}

/**
 * The signature of `listen`: the server's address type follows the options —
 * a `path` gives a `Server<IpcEndpoint>`, a host and port (no `path`, no
 * `fd`) a `Server<TcpEndpoint>` (so `server.port` is a `number`), anything
 * else a `Server` of either kind.
 *
 * @category models
 * @since 0.1.0
 */
export interface Listen<R> {
  (
    options: ListenOptions & { readonly path: string }
  ): Effect.Effect<Server.Server<IpcEndpoint>, ListenError, Scope.Scope | R>
  (
    options: ListenOptions & { readonly path?: undefined; readonly fd?: undefined }
  ): Effect.Effect<Server.Server<TcpEndpoint>, ListenError, Scope.Scope | R>
  (options: ListenOptions): Effect.Effect<Server.Server, ListenError, Scope.Scope | R>
}

/**
 * The `Network` service.
 *
 * @category services
 * @since 0.1.0
 */
export class Network extends Context.Service<Network, NetworkShape>()("@sluice/core/Network") {}

/**
 * The checks of every socket option, for `connect` and for every socket a
 * server accepts: one row per option (see `internal/options.ts`). Every
 * `…Timeout` takes `0` as no timeout, like `Infinity` (Node's rule).
 */
const socketTable = {
  noDelay: Options.boolean,
  keepAlive: Options.boolean,
  keepAliveInitialDelay: Options.delay,
  allowHalfOpen: Options.boolean,
  readHighWaterMark: Options.nonNegativeInt,
  writeHighWaterMark: Options.nonNegativeInt,
  idleTimeout: Options.timeout,
  closeTimeout: Options.timeout
}

/**
 * The checks of `connect`'s options, one row per option: a row marked `tcp`
 * is refused with a `path`. Valid options, the common case, cost one pass
 * of plain predicates per connect (no Schema parser, no Effect).
 */
const connectTable = {
  host: Options.tcp(Options.nonEmptyString),
  port: Options.tcp(Options.port),
  path: Options.nonEmptyString,
  localAddress: Options.tcp(Options.ipAddress),
  localPort: Options.tcp(Options.port),
  family: Options.tcp(Options.literals(0, 4, 6)),
  hints: Options.tcp(Options.hints),
  lookup: Options.tcp(Options.func<Engine.LookupFunction>()),
  autoSelectFamily: Options.tcp(Options.boolean),
  autoSelectFamilyAttemptTimeout: Options.tcp(Options.timeout),
  timeout: Options.timeout,
  tls: TlsOptions.clientField,
  ...socketTable
} satisfies { readonly [K in keyof Required<ConnectOptions>]: Options.Field<unknown> }

/**
 * The checks of `listen`'s options, one row per option: the target is a
 * `path`, else an `fd`, else a host and port; a row for another kind of
 * target is refused.
 */
const listenTable = {
  host: Options.tcp(Options.nonEmptyString),
  port: Options.tcp(Options.port),
  path: Options.nonEmptyString,
  fd: Options.fd(Options.nonNegativeInt),
  backlog: Options.nonNegativeInt,
  exclusive: Options.boolean,
  ipv6Only: Options.tcp(Options.boolean),
  reusePort: Options.tcp(Options.boolean),
  readableAll: Options.ipc(Options.boolean),
  writableAll: Options.ipc(Options.boolean),
  removeStaleSocket: Options.ipc(Options.boolean),
  maxConnections: Options.nonNegativeInt,
  tls: TlsOptions.serverField,
  ...socketTable
} satisfies { readonly [K in keyof Required<ListenOptions>]: Options.Field<unknown> }

const readConnect = Options.reader(connectTable)
const readListen = Options.reader(listenTable)

/** Connect options that passed their checks (durations in milliseconds, `Infinity` for none). */
type ValidConnectOptions = Options.Parsed<typeof connectTable>

/** Listen options that passed their checks. */
type ValidListenOptions = Options.Parsed<typeof listenTable>

/** Why `hints` has a flag the driver's lookup does not know. */
const unknownHints = (hints: number, known: number): string =>
  `hints: expected a combination of the driver's lookup flags (mask ${known}), got ${hints}`

/** A timeout for the engine: `undefined` for none. */
const finite = (ms: number | undefined): number | undefined => ms !== undefined && Number.isFinite(ms) ? ms : undefined

const toAttempt = (a: Engine.Attempt): ConnectAttempt =>
  a.error === undefined
    ? { address: a.address, port: a.port, family: a.family, outcome: a.outcome, durationMs: a.durationMs }
    : {
      address: a.address,
      port: a.port,
      family: a.family,
      outcome: a.outcome,
      code: a.error.code,
      durationMs: a.durationMs
    }

/** Stands in for a failure the engine would not leave out (neither a connection nor a failure). */
const unknownFailure: Engine.ConnectFailure = {
  error: { code: "UNKNOWN", syscall: "connect" },
  errors: [],
  attempts: [],
  lookup: false
}

const connectError = (failure: Engine.ConnectFailure): ConnectError => {
  const fields = fieldsFromDriver(failure.error)
  const attempts = failure.attempts.map(toAttempt)
  const detail = failure.error.code === "ETIMEDOUT" && typeof failure.error.cause === "string"
    ? failure.error.cause
    : failure.lookup
    ? "name lookup failed"
    : attempts.length > 1
    ? `all ${attempts.length} attempts failed: ${
      attempts.map((a) => `${a.address} ${a.code ?? a.outcome} after ${Math.round(a.durationMs)} ms`).join(", ")
    }`
    : undefined
  return new ConnectError({ ...fields, detail, attempts })
}

/** A client's TLS, prepared for one connect. */
interface ClientPlan {
  readonly context: Tls.ClientContext
  readonly peer: Tls.ClientPeer
  readonly handshakeMs: number | undefined
  /** The path of a local socket, for the error of a failed handshake. */
  readonly path: string | undefined
}

/** The TLS plan of a connect, or the error that refuses it (no provider, options the provider refuses). */
const clientPlan = (
  provider: Option.Option<Tls.TlsShape>,
  checked: TlsOptions.Checked<Tls.ClientSettings>,
  request: Engine.ConnectRequest
): ClientPlan | ConnectError => {
  if (Option.isNone(provider)) return new ConnectError(unsupported("connect", Tls.noProvider))
  const context = provider.value.client(checked.settings)
  if (context._tag === "Refused") return new ConnectError(invalidOptions("connect", `tls: ${context.detail}`))
  const host = request._tag === "Tcp" ? request.host : "localhost"
  const servername = checked.settings.servername ?? Tls.defaultServername(host)
  return {
    context,
    peer: { servername, identity: checked.settings.servername ?? host },
    handshakeMs: checked.handshakeTimeoutMs,
    path: request._tag === "Ipc" ? request.path : undefined
  }
}

const noop = (): void => {}

/**
 * Builds the `Network` over a driver.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (driver: Driver): NetworkShape => {
  /** The engine request for valid options, or the error that refuses them. */
  const connectRequest = (o: ValidConnectOptions): Engine.ConnectRequest | ConnectError => {
    const deadlineMs = finite(o.timeout)
    if (o.path !== undefined) {
      if (!driver.capabilities.ipc) {
        return new ConnectError(unsupported("connect", `the ${driver.name} driver has no IPC sockets`))
      }
      return { _tag: "Ipc", path: o.path, deadlineMs }
    }
    if (o.port === undefined) return new ConnectError(invalidOptions("connect", "port: a port or a path is required"))
    const hints = o.hints ?? 0
    const known = driver.capabilities.lookupHints
    if (o.lookup === undefined && known !== undefined && (hints & ~known) !== 0) {
      return new ConnectError(invalidOptions("connect", unknownHints(hints, known)))
    }
    return {
      _tag: "Tcp",
      host: o.host ?? "localhost",
      port: o.port,
      localAddress: o.localAddress,
      localPort: o.localPort,
      family: o.family ?? 0,
      hints,
      lookup: o.lookup,
      autoSelectFamily: o.autoSelectFamily ?? true,
      autoSelectFamilyAttemptTimeoutMs: o.autoSelectFamilyAttemptTimeout ?? 250,
      deadlineMs
    }
  }

  /**
   * The TLS handshake of a new connection under the rest of the connect
   * deadline and the handshake timeout; interruptible (it then aborts).
   */
  const secureHandshake = (
    connected: Engine.Connected,
    plan: ClientPlan,
    timeoutMs: number | undefined,
    started: number
  ): Effect.Effect<Handle, ConnectError> =>
    Effect.callback<Handle, ConnectError>((resume) => {
      const secure = plan.context.wrap(connected.handle, plan.peer, [])
      const remaining = timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (driver.timers.now() - started))
      const deadline = remaining !== undefined && (plan.handshakeMs === undefined || remaining < plan.handshakeMs)
      const limit = deadline ? remaining : plan.handshakeMs
      const last = connected.attempts[connected.attempts.length - 1]
      const peer: Endpoint | undefined = last !== undefined
        ? { _tag: "Tcp", address: last.address, port: last.port, family: Engine.familyName(last.family) }
        : plan.path === undefined
        ? undefined
        : { _tag: "Ipc", path: plan.path }
      const remote = () => peer
      const cancel = runHandshake(driver.timers, secure, limit, remote, (error) => {
        if (error === undefined) return resume(Effect.succeed(secure))
        secure.close(noop)
        resume(Effect.fail(
          new ConnectError({ ...handshakeFields(error), attempts: connected.attempts.map(toAttempt) })
        ))
      }, deadline ? `the connect deadline of ${timeoutMs} ms elapsed during the TLS handshake` : undefined)
      return Effect.sync(() => {
        cancel()
        secure.reset(noop)
      })
    })

  /** Dials `request` and wraps the connection as a socket in a child of the current scope. */
  const dial = (
    o: ValidConnectOptions,
    request: Engine.ConnectRequest,
    plan?: ClientPlan
  ): Effect.Effect<Socket.Socket, ConnectError, Scope.Scope> =>
    Effect.flatMap(Scope.Scope, (scope) =>
      // Uninterruptible except while waiting for the engine: a connection the
      // engine delivers always gets its socket scope, and an interruption
      // while connecting cancels the engine, which closes whatever is pending.
      Effect.uninterruptibleMask((restore) => {
        let delivered: Engine.Connected | undefined
        let taken = false
        const started = plan === undefined ? 0 : driver.timers.now()
        const connecting = restore(Effect.callback<Engine.Connected, ConnectError>((resume) => {
          const cancel = Engine.connect(driver, request, {}, (failure, connected) => {
            if (connected === undefined) {
              resume(Effect.fail(connectError(failure ?? unknownFailure)))
            } else {
              delivered = connected
              resume(Effect.succeed(connected))
            }
          })
          return Effect.sync(() => {
            cancel()
            if (delivered !== undefined && !taken) delivered.handle.close(() => {})
          })
        }))
        // with TLS: the handshake, interruptible, before the connection is one
        const opened = plan === undefined ? connecting : Effect.flatMap(connecting, (connected) => {
          taken = true
          return Effect.map(
            restore(secureHandshake(connected, plan, request.deadlineMs, started)),
            (handle): Engine.Connected => ({ handle, attempts: connected.attempts })
          )
        })
        return Effect.flatMap(
          Effect.tapError(opened, () => Metric.update(Observability.connectFailures, 1)),
          (connected) => {
            taken = true
            const connection = new Engine.Connection(driver, connected.handle, {
              allowHalfOpen: o.allowHalfOpen ?? false
            })
            if (o.noDelay === true) connection.setNoDelay(true)
            if (o.keepAlive === true) connection.setKeepAlive(true, o.keepAliveInitialDelay ?? 0)
            const attempts = connected.attempts.map(toAttempt)
            return Effect.flatMap(
              Socket.make(connection, scope, {
                readHighWaterMark: o.readHighWaterMark,
                writeHighWaterMark: o.writeHighWaterMark,
                idleTimeoutMs: finite(o.idleTimeout),
                closeTimeoutMs: o.closeTimeout,
                attempts
              }),
              (socket) => {
                const attributes: Record<string, unknown> = {}
                Observability.putEndpointAttributes(attributes, "net.peer", socket.remoteAddress)
                Observability.putEndpointAttributes(attributes, "net.local", socket.localAddress)
                attributes["sluice.attempts"] = attempts.length
                return Effect.as(Effect.annotateCurrentSpan(attributes), socket)
              }
            )
          }
        )
      }))

  const connect = (options: ConnectOptions): Effect.Effect<Socket.Socket, ConnectError, Scope.Scope> =>
    Effect.suspend(() => {
      const o = readConnect(options)
      if (typeof o === "string") {
        return Effect.withSpan(Effect.fail(new ConnectError(invalidOptions("connect", o))), "sluice.connect", {
          kind: "client",
          captureStackTrace: false
        })
      }
      const request = connectRequest(o)
      const tls = o.tls
      return Effect.withSpan(
        request instanceof ConnectError
          ? Effect.fail(request)
          : tls === undefined
          ? dial(o, request)
          : Effect.flatMap(Effect.serviceOption(Tls.Tls), (provider) => {
            const plan = clientPlan(provider, tls, request)
            return plan instanceof ConnectError ? Effect.fail(plan) : dial(o, request, plan)
          }),
        "sluice.connect",
        {
          kind: "client",
          attributes: o.path !== undefined
            ? { "sluice.target.path": o.path }
            : { "sluice.target.host": o.host ?? "localhost", "sluice.target.port": o.port },
          captureStackTrace: false
        }
      )
    })

  /** The driver's listen target for valid options, or the error that refuses them. */
  const listenTarget = (o: ValidListenOptions): ListenTarget | ListenError => {
    const backlog = o.backlog ?? 511
    if (o.path !== undefined) {
      if (!driver.capabilities.ipc) {
        return new ListenError(unsupported("listen", `the ${driver.name} driver has no IPC sockets`))
      }
      return {
        _tag: "Ipc",
        path: o.path,
        backlog,
        exclusive: o.exclusive ?? false,
        readableAll: o.readableAll ?? false,
        writableAll: o.writableAll ?? false,
        removeStale: o.removeStaleSocket ?? false
      }
    }
    if (o.fd !== undefined) {
      if (!driver.capabilities.fd) {
        return new ListenError(unsupported("listen", `the ${driver.name} driver cannot adopt file descriptors`))
      }
      return { _tag: "Fd", fd: o.fd, backlog }
    }
    if (o.reusePort === true && !driver.capabilities.reusePort) {
      return new ListenError(unsupported("listen", `the ${driver.name} driver has no reusePort`))
    }
    return {
      _tag: "Tcp",
      host: o.host,
      port: o.port ?? 0,
      backlog,
      exclusive: o.exclusive ?? false,
      ipv6Only: o.ipv6Only ?? false,
      reusePort: o.reusePort ?? false
    }
  }

  /** Binds `target` and makes the server, in the current scope. */
  const bind = (o: ValidListenOptions, target: ListenTarget): Effect.Effect<Server.Server, ListenError, Scope.Scope> =>
    Effect.gen(function*() {
      let secure: { readonly context: Tls.ServerContext; readonly handshakeMs: number | undefined } | undefined
      if (o.tls !== undefined) {
        const provider = yield* Effect.serviceOption(Tls.Tls)
        if (Option.isNone(provider)) return yield* new ListenError(unsupported("listen", Tls.noProvider))
        const context = provider.value.server(o.tls.settings)
        if (context._tag === "Refused") {
          return yield* new ListenError(invalidOptions("listen", `tls: ${context.detail}`))
        }
        secure = { context, handshakeMs: o.tls.handshakeTimeoutMs }
      }
      const scope = yield* Scope.Scope
      const queue = new Server.AcceptQueue()
      // a TLS server hands a connection on once its handshake succeeded
      const handshakes = secure === undefined ? undefined : new Handshakes(
        driver.timers,
        secure.handshakeMs,
        (connection) => queue.push(connection),
        (error) => queue.handshakeFailed(error)
      )
      if (handshakes !== undefined) queue.onClose = () => handshakes.close()
      const listener = yield* Effect.acquireRelease(
        Effect.callback<Engine.Listener, ListenError>((resume) => {
          Engine.listen(
            secure === undefined ? driver : acceptSecure(driver, secure.context),
            target,
            {
              onConnection: (connection) => {
                if (o.noDelay === true) connection.setNoDelay(true)
                if (o.keepAlive === true) connection.setKeepAlive(true, o.keepAliveInitialDelay ?? 0)
                if (handshakes === undefined) queue.push(connection)
                else handshakes.start(connection)
              },
              onDrop: () => {},
              onError: (error) => queue.fail(error)
            },
            { allowHalfOpen: o.allowHalfOpen ?? false, maxConnections: o.maxConnections },
            (error, listener) =>
              resume(
                listener === undefined
                  ? Effect.fail(new ListenError(fieldsFromDriver(error ?? { code: "UNKNOWN", syscall: "listen" })))
                  : Effect.succeed(listener)
              )
          )
        }),
        (listener) =>
          Effect.andThen(
            Effect.callback<void>((resume) => {
              queue.close()
              listener.close(() => resume(Effect.void))
            }),
            Effect.suspend(() =>
              Effect.andThen(
                Metric.update(Observability.connectionsDropped, listener.dropped),
                Metric.update(Observability.handshakeFailures, queue.handshakeFailures)
              )
            )
          )
      )
      // accepted sockets live in a scope of their own, made after the listener:
      // closing the server's scope runs what was added later first (a `serve`'s
      // graceful shutdown), then closes the remaining sockets, then the listener
      const connections = yield* Scope.fork(scope)
      const server = Server.make(listener, queue, connections, {
        readHighWaterMark: o.readHighWaterMark,
        writeHighWaterMark: o.writeHighWaterMark,
        idleTimeoutMs: finite(o.idleTimeout),
        closeTimeoutMs: o.closeTimeout
      })
      yield* Effect.annotateCurrentSpan(Observability.endpointAttributes("net.local", server.address))
      return server
    })

  const listen = (options: ListenOptions): Effect.Effect<Server.Server, ListenError, Scope.Scope> =>
    Effect.suspend(() => {
      const o = readListen(options)
      if (typeof o === "string") {
        return Effect.withSpan(Effect.fail(new ListenError(invalidOptions("listen", o))), "sluice.listen", {
          captureStackTrace: false
        })
      }
      const target = listenTarget(o)
      return Effect.withSpan(target instanceof ListenError ? Effect.fail(target) : bind(o, target), "sluice.listen", {
        attributes: o.path !== undefined
          ? { "sluice.target.path": o.path }
          : { "sluice.target.host": o.host ?? "(any)", "sluice.target.port": o.port ?? 0 },
        captureStackTrace: false
      })
    })

  // the driver reports the kind of address listened on: a path gives an IPC
  // endpoint, a host and port a TCP one (what the overloads of `Listen` say)
  return { driver, connect, listen: listen as Listen<never> }
}

/**
 * A layer providing `Network` over a driver.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (driver: Driver): Layer.Layer<Network> => Layer.succeed(Network, make(driver))

/**
 * Opens a connection with the `Network` in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Network } from "@sluice/core"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const socket = yield* Network.connect({ host: "127.0.0.1", port: 7000, timeout: "5 seconds" })
 *   yield* socket.write("hello\n")
 * }))
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const connect = (options: ConnectOptions): Effect.Effect<Socket.Socket, ConnectError, Scope.Scope | Network> =>
  Network.use((network) => network.connect(options))

/**
 * Listens with the `Network` in context.
 *
 * @category accessors
 * @since 0.1.0
 */
export const listen: Listen<Network> =
  ((options: ListenOptions) => Network.use((network) => network.listen(options))) as Listen<Network>
