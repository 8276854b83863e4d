/**
 * The `Network` service: connect and listen, as scoped resources.
 *
 * Provided by `NodeNetwork.layer` (`@sluice/node-adapter`, real sockets) or
 * `MemoryNetwork.layer` (an in-process virtual network for tests). Options are
 * validated by Schemas: bad input is a typed `InvalidOptions` error naming the
 * field and the value, never a thrown `TypeError`.
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
import type { Driver, Endpoint, Handle, ListenTarget } from "./Driver.ts"
import * as Engine from "./Engine.ts"
import { millisOf } from "./internal/duration.ts"
import { acceptSecure, handshakeFields, Handshakes, runHandshake } from "./internal/handshake.ts"
import { checkClient, checkServer } from "./internal/tlsOptions.ts"
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
  localAddress: Schema.optional(Schema.String),
  localPort: Schema.optional(Port),
  family: Schema.optional(Schema.Literals([0, 4, 6])),
  hints: Schema.optional(NonNegativeInt),
  autoSelectFamily: Schema.optional(Schema.Boolean),
  ...socketFields
})

/**
 * The durations of a socket, for `connect` and for every socket a server
 * accepts. Each accepts anything `Duration` does (`"2 seconds"`, `2000`,
 * `Duration.seconds(2)`).
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketDurations {
  /** Idle time before the first keep-alive probe, with `keepAlive`. */
  readonly keepAliveInitialDelay?: Duration.Input | undefined
  /** Fail reads with `TimedOut` and abort after this long without activity. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Bound of the graceful close at scope end; past it the socket is aborted (default 10 seconds). */
  readonly closeTimeout?: Duration.Input | undefined
}

/**
 * Options of `connect`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectOptions extends Partial<typeof ConnectOptionsSchema.Type>, SocketDurations {
  /** A replacement for the driver's name lookup. */
  readonly lookup?: Engine.LookupFunction | undefined
  /** One deadline over name lookup and every attempt. */
  readonly timeout?: Duration.Input | undefined
  /** Per-attempt timeout with `autoSelectFamily` (default 250 ms). */
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
  readonly listen: (options: ListenOptions) => Effect.Effect<Server.Server, ListenError, Scope.Scope>
}

/**
 * The `Network` service.
 *
 * @category services
 * @since 0.1.0
 */
export class Network extends Context.Service<Network, NetworkShape>()("@sluice/core/Network") {}

/** `port: Expected a value between 0 and 65535, got 70000` */
const describeSchemaError = (error: Schema.SchemaError, input: object): string => {
  const lines = error.message.split("\n")
  const field = /at \["([^"]+)"\]/.exec(error.message)?.[1]
  const expected = lines[0] ?? "invalid options"
  if (field === undefined) return expected
  const value = (input as Record<string, unknown>)[field]
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value)
  return `${field}: ${expected}, got ${shown}`
}

const decodeConnect = Schema.decodeUnknownEffect(ConnectOptionsSchema)

/**
 * Plain predicates that accept a subset of what the option Schemas accept
 * (checked field by field against `ConnectOptionsSchema`). Valid options,
 * the common case, skip the Schema parser on every connect; anything else
 * goes through the Schema, which names the field in its error.
 */
type FieldCheck = (u: unknown) => boolean
const isBoolean: FieldCheck = (u) => typeof u === "boolean"
const isString: FieldCheck = (u) => typeof u === "string"
const isNonEmptyString: FieldCheck = (u) => typeof u === "string" && u.length > 0
const isNonNegativeInt: FieldCheck = (u) => typeof u === "number" && Number.isSafeInteger(u) && u >= 0
const isPort: FieldCheck = (u) => typeof u === "number" && Number.isSafeInteger(u) && u >= 0 && u <= 65535
const isFamily: FieldCheck = (u) => u === 0 || u === 4 || u === 6

const connectChecks: { readonly [K in keyof typeof ConnectOptionsSchema.fields]: FieldCheck } = {
  host: isNonEmptyString,
  port: isPort,
  path: isNonEmptyString,
  localAddress: isString,
  localPort: isPort,
  family: isFamily,
  hints: isNonNegativeInt,
  autoSelectFamily: isBoolean,
  noDelay: isBoolean,
  keepAlive: isBoolean,
  allowHalfOpen: isBoolean,
  readHighWaterMark: isNonNegativeInt,
  writeHighWaterMark: isNonNegativeInt
}
const connectKeys = Object.keys(connectChecks) as ReadonlyArray<keyof typeof connectChecks>

/** Connect options that passed their checks. */
type ValidConnectOptions = typeof ConnectOptionsSchema.Type

/** The connect options that are durations. */
const connectDurations = [
  "timeout",
  "autoSelectFamilyAttemptTimeout",
  "idleTimeout",
  "keepAliveInitialDelay",
  "closeTimeout"
] as const

/** Those durations in milliseconds (`undefined` when absent or infinite). */
type ConnectMillis = Record<(typeof connectDurations)[number], number | undefined>

/** `options` itself when every field is valid by {@link connectChecks}. */
const validConnectOptions = (options: unknown): ValidConnectOptions | undefined => {
  if (typeof options !== "object" || options === null) return undefined
  const record = options as Record<string, unknown>
  for (let i = 0; i < connectKeys.length; i++) {
    const key = connectKeys[i]!
    const value = record[key]
    if (value !== undefined && !connectChecks[key](value)) return undefined
  }
  return options as ValidConnectOptions
}
const decodeListen = Schema.decodeUnknownEffect(ListenOptionsSchema)

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

/** The TLS plan of a connect, or the error that refuses its `tls` options. */
const clientPlan = (
  provider: Option.Option<Tls.TlsShape>,
  tls: unknown,
  request: Engine.ConnectRequest
): ClientPlan | ConnectError => {
  const checked = checkClient(tls, "tls.")
  if (typeof checked === "string") return new ConnectError(invalidOptions("connect", checked))
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
  const connectRequest = (
    o: ValidConnectOptions,
    options: ConnectOptions,
    ms: ConnectMillis
  ): Engine.ConnectRequest | ConnectError => {
    if (o.path !== undefined && (o.host !== undefined || o.port !== undefined)) {
      return new ConnectError(
        invalidOptions("connect", `path: give a path or a host and port, not both (got path ${JSON.stringify(o.path)})`)
      )
    }
    if (o.localAddress !== undefined && isIP(o.localAddress) === 0) {
      return new ConnectError(
        invalidOptions("connect", `localAddress: expected an IP address, got ${JSON.stringify(o.localAddress)}`)
      )
    }
    if (options.lookup !== undefined && typeof options.lookup !== "function") {
      return new ConnectError(invalidOptions("connect", `lookup: expected a function`))
    }
    if (o.path !== undefined) {
      if (!driver.capabilities.ipc) {
        return new ConnectError(unsupported("connect", `the ${driver.name} driver has no IPC sockets`))
      }
      return { _tag: "Ipc", path: o.path, deadlineMs: ms.timeout }
    }
    if (o.port === undefined) return new ConnectError(invalidOptions("connect", "port: a port or a path is required"))
    return {
      _tag: "Tcp",
      host: o.host ?? "localhost",
      port: o.port,
      localAddress: o.localAddress,
      localPort: o.localPort,
      family: o.family ?? 0,
      hints: o.hints ?? 0,
      lookup: options.lookup,
      autoSelectFamily: o.autoSelectFamily ?? true,
      autoSelectFamilyAttemptTimeoutMs: ms.autoSelectFamilyAttemptTimeout ?? 250,
      deadlineMs: ms.timeout
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
    ms: ConnectMillis,
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
        const opened = plan === undefined ? connecting : Effect.flatMap(connecting, (connected) => {
          taken = true
          return Effect.map(
            restore(secureHandshake(connected, plan, ms.timeout, started)),
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
            if (o.keepAlive === true) connection.setKeepAlive(true, ms.keepAliveInitialDelay ?? 0)
            const attempts = connected.attempts.map(toAttempt)
            return Effect.flatMap(
              Socket.make(connection, scope, {
                readHighWaterMark: o.readHighWaterMark,
                writeHighWaterMark: o.writeHighWaterMark,
                idleTimeoutMs: ms.idleTimeout,
                closeTimeoutMs: ms.closeTimeout,
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

  /** Checks the durations and the combination of valid options, then dials. */
  const connectValid = (
    o: ValidConnectOptions,
    options: ConnectOptions
  ): Effect.Effect<Socket.Socket, ConnectError, Scope.Scope> => {
    const ms = millisOf(options, connectDurations)
    if (typeof ms === "string") return Effect.fail(new ConnectError(invalidOptions("connect", ms)))
    const request = connectRequest(o, options, ms)
    if (request instanceof ConnectError) return Effect.fail(request)
    if (options.tls === undefined) return dial(o, ms, request)
    return Effect.flatMap(Effect.serviceOption(Tls.Tls), (provider) => {
      const plan = clientPlan(provider, options.tls, request)
      return plan instanceof ConnectError ? Effect.fail(plan) : dial(o, ms, request, plan)
    })
  }

  const connect = (options: ConnectOptions): Effect.Effect<Socket.Socket, ConnectError, Scope.Scope> =>
    Effect.withSpan(
      Effect.suspend(() => {
        const o = validConnectOptions(options)
        if (o !== undefined) return connectValid(o, options)
        return Effect.flatMap(
          Effect.mapError(
            decodeConnect(options),
            (e) => new ConnectError(invalidOptions("connect", describeSchemaError(e, options)))
          ),
          (decoded) => connectValid(decoded, options)
        )
      }),
      "sluice.connect",
      {
        kind: "client",
        attributes: options.path !== undefined
          ? { "sluice.target.path": options.path }
          : { "sluice.target.host": options.host ?? "localhost", "sluice.target.port": options.port },
        captureStackTrace: false
      }
    )

  const listen = (options: ListenOptions): Effect.Effect<Server.Server, ListenError, Scope.Scope> =>
    Effect.gen(function*() {
      const o = yield* decodeListen(options).pipe(
        Effect.mapError((e) => new ListenError(invalidOptions("listen", describeSchemaError(e, options))))
      )
      const ms = millisOf(options, ["idleTimeout", "keepAliveInitialDelay", "closeTimeout"])
      if (typeof ms === "string") return yield* new ListenError(invalidOptions("listen", ms))
      const backlog = o.backlog ?? 511
      let target: ListenTarget
      if (o.path !== undefined) {
        if (!driver.capabilities.ipc) {
          return yield* new ListenError(unsupported("listen", `the ${driver.name} driver has no IPC sockets`))
        }
        target = {
          _tag: "Ipc",
          path: o.path,
          backlog,
          exclusive: o.exclusive ?? false,
          readableAll: o.readableAll ?? false,
          writableAll: o.writableAll ?? false,
          removeStale: o.removeStaleSocket ?? false
        }
      } else if (o.fd !== undefined) {
        if (!driver.capabilities.fd) {
          return yield* new ListenError(
            unsupported("listen", `the ${driver.name} driver cannot adopt file descriptors`)
          )
        }
        target = { _tag: "Fd", fd: o.fd, backlog }
      } else {
        if (o.reusePort === true && !driver.capabilities.reusePort) {
          return yield* new ListenError(unsupported("listen", `the ${driver.name} driver has no reusePort`))
        }
        target = {
          _tag: "Tcp",
          host: o.host,
          port: o.port ?? 0,
          backlog,
          exclusive: o.exclusive ?? false,
          ipv6Only: o.ipv6Only ?? false,
          reusePort: o.reusePort ?? false
        }
      }
      let secure: { readonly context: Tls.ServerContext; readonly handshakeMs: number | undefined } | undefined
      if (options.tls !== undefined) {
        const checked = checkServer(options.tls, "tls.")
        if (typeof checked === "string") return yield* new ListenError(invalidOptions("listen", checked))
        const provider = yield* Effect.serviceOption(Tls.Tls)
        if (Option.isNone(provider)) return yield* new ListenError(unsupported("listen", Tls.noProvider))
        const context = provider.value.server(checked.settings)
        if (context._tag === "Refused") {
          return yield* new ListenError(invalidOptions("listen", `tls: ${context.detail}`))
        }
        secure = { context, handshakeMs: checked.handshakeTimeoutMs }
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
                if (o.keepAlive === true) connection.setKeepAlive(true, ms.keepAliveInitialDelay ?? 0)
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
        idleTimeoutMs: ms.idleTimeout,
        closeTimeoutMs: ms.closeTimeout
      })
      yield* Effect.annotateCurrentSpan(Observability.endpointAttributes("net.local", server.address))
      return server
    }).pipe(
      Effect.withSpan("sluice.listen", {
        attributes: options.path !== undefined
          ? { "sluice.target.path": options.path }
          : { "sluice.target.host": options.host ?? "(any)", "sluice.target.port": options.port ?? 0 }
      }, { captureStackTrace: false })
    )

  return { driver, connect, listen }
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
export const listen = (options: ListenOptions): Effect.Effect<Server.Server, ListenError, Scope.Scope | Network> =>
  Network.use((network) => network.listen(options))
