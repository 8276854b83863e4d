/**
 * An in-process virtual network for tests: a {@link Driver.Driver} whose
 * sockets behave like a kernel's, with both ends in memory.
 *
 * Each network is isolated: listen on any host:port (ephemeral ports from
 * 32768–60999 when the port is 0) or IPC path, dial it, and get the errors a
 * real network gives — `EADDRINUSE`, `ECONNREFUSED` when nobody listens,
 * `ENOENT` for a missing path, `ENOTFOUND` for a name missing from the host
 * table (`localhost` resolves to `127.0.0.1` and `::1`). FIN and RST are
 * distinct (`ECONNRESET` on the reads of the peer of a reset, `EPIPE` on
 * writes after the peer is gone), connections can be half-open, a listener's
 * backlog is bounded, and each direction has a bounded buffer, so a reader
 * that stops reading really blocks the writer.
 *
 * Faults are seeded and reproducible: random slicing of writes, latency and
 * bandwidth per direction, refusing connections, a reset after N bytes,
 * dropping connections, partitions between hosts, slow close.
 *
 * Time is Effect time: `layer` takes the `Clock` of the context it is built
 * in, so under `TestClock` deadlines, idle timeouts and latency take no real
 * time, and one `TestClock.adjust` delivers everything due in the time it
 * covers, in order, as small steps would (each delivery is a turn of Effect's
 * scheduler, which `TestClock` watches). What waits for a clock nobody
 * moves ends after `stallTimeout` of real time, saying why (see `Options`).
 * `make` builds a network on real timers, for code outside Effect (for
 * example `createNet(network.driver)` from `@sluice/compat`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryNetwork, Network } from "@sluice/core"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const server = yield* Network.listen({ host: "127.0.0.1", port: 7000 })
 *   const socket = yield* Network.connect({ host: "127.0.0.1", port: 7000 })
 *   yield* socket.write("hello")
 * }))
 *
 * Effect.runPromise(Effect.provide(program, MemoryNetwork.layer({ seed: 42 })))
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scheduler from "effect/Scheduler"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Driver, Endpoint, Timers } from "./Driver.ts"
import type { FaultRule, PerDirection } from "./internal/memory/faults.ts"
import { type NetworkOptions, VirtualNetwork } from "./internal/memory/network.ts"
import { checkAddresses, checkFault, checkOptions, type Problem, thrown } from "./internal/memory/options.ts"
import type { Pipe } from "./internal/memory/pipe.ts"
import { TurnQueue } from "./internal/memory/scheduling.ts"
import * as Network from "./Network.ts"

/**
 * A value for both directions of a connection, or one per direction.
 * `toServer` is the direction from the dialing side to the listening side.
 *
 * @category models
 * @since 0.1.0
 */
export type { PerDirection }

/**
 * A fault, applied to connections whose listening side matches `match`
 * (every connection when `match` is absent; `match.client` narrows it to the
 * connections dialed from one host, so a rule can be one link's). Rules are
 * looked up when a connection opens; when several match, later ones win
 * field by field.
 *
 * - `match`: `host` (an address or a host table name), `port` (1–65535),
 *   `path` (a local socket path).
 * - `slice`: cut every write into random pieces of 1 to `slice` bytes, each
 *   delivered as its own read (shakes out framing bugs); an integer, `0`: off.
 * - `latency`: milliseconds each byte, FIN and RST travel (also delays the
 *   connect handshake); finite, ≥ 0.
 * - `bandwidth`: bytes per second; finite, > 0.
 * - `refuse`: answer connects with `ECONNREFUSED` although somebody listens.
 * - `resetAfter`: once this many bytes went the given way, the network resets
 *   the connection: both ends see `ECONNRESET`; the bytes before it arrive.
 *   An integer ≥ 0.
 * - `slowClose`: milliseconds added to the delivery of each FIN; finite, ≥ 0.
 *
 * A field of another kind or out of range, or a field not listed here, is
 * refused when the network is made or the fault injected
 * ({@link InvalidOptions}).
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "@sluice/core"
 *
 * const fault: MemoryNetwork.Fault = {
 *   match: { port: 5432 },
 *   slice: 3,
 *   latency: { toServer: 20, toClient: 200 },
 *   resetAfter: { toClient: 1000 }
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Fault = FaultRule

/**
 * Options of a memory network. Each is checked when the network is made: a
 * value of another kind, out of range, or an unknown field is refused with
 * {@link InvalidOptions} naming it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Seed of every random choice (slicing, ephemeral ports), an integer. Same seed, same trace. Default `1`. */
  readonly seed?: number | undefined
  /** Extra host table entries: name → an IP address or a non-empty list of them. */
  readonly hosts?: Readonly<Record<string, string | ReadonlyArray<string>>> | undefined
  /** Bytes each direction holds (in flight + unread) before writers wait, an integer ≥ 1. Default 64 KiB. */
  readonly bufferSize?: number | undefined
  /** The ephemeral port range `[first, last]`, ports 1–65535, first ≤ last. Default `[32768, 60999]` (Linux). */
  readonly ephemeralPorts?: readonly [number, number] | undefined
  /** Record a trace of the network's events (see `trace`). */
  readonly trace?: boolean | undefined
  /** Faults active from the start. */
  readonly faults?: ReadonlyArray<Fault> | undefined
  /**
   * Milliseconds a sender keeps retransmitting across a partition or a dropped
   * connection before the connection fails with `ETIMEDOUT` (`TimedOut`):
   * ≥ 0, `Infinity` never gives up. Default 924 600 (Linux: 15
   * retransmissions).
   */
  readonly retransmissionTimeout?: number | undefined
  /**
   * Model Nagle's algorithm and delayed ACKs on TCP connections without
   * latency, bandwidth or slicing faults, as Linux does on loopback: a small
   * write waits while an earlier small segment is unacknowledged (a segment is
   * small below the MSS, bounded by half the largest window the receiver has
   * announced: about 32 KiB on a young connection), and a peer that answers
   * its reads delays its ACKs by 40 ms. Byte timing then matches
   * real sockets (a write just before a destroy can be lost, as with
   * node:net). Under `TestClock` such a held write waits for 40 ms of virtual
   * time: advance the clock, set `noDelay`, or turn this off. Default `true`.
   */
  readonly nagle?: boolean | undefined
  /**
   * Called with each trace line as it is recorded, and the network's time
   * (milliseconds, virtual under `TestClock`), whether or not `trace` keeps
   * them. For a caller that attributes events itself (a simulation's log per
   * host).
   */
  readonly onTrace?: ((line: string, now: number) => void) | undefined
  /**
   * The host's file system, as binds and connects on a local socket path see
   * it. Without it the network has no file system of its own beyond its
   * listeners' sockets: every directory exists and nothing else is at any
   * path. With it a path behaves as on the host: listening on an existing
   * file or directory fails with `AddressInUse`, in a missing directory with
   * `AccessDenied` (`EACCES`, as libuv reports it), under a file with
   * `NotFound` (`ENOTDIR`); connecting to a file nobody listens on is
   * `ConnectionRefused`. The node adapter's `NodeDriver.paths` answers from
   * the real file system, so tests in a temp directory behave as on real
   * sockets; a function of your own describes a file system that is not there.
   */
  readonly paths?: Paths | undefined
  /**
   * On an Effect clock (`layer`, `Testing.layerMemory`): milliseconds of real
   * time after which something that waits for the network's clock is ended
   * when nothing ran on the network and the clock did not move meanwhile —
   * under `TestClock`, a test that waits without moving the clock. A connect
   * waiting for a latency or a SYN retry fails with `TimedOut`, its message
   * naming what it waited for; a close waiting for its peer to read, bounded
   * by its close timeout, is aborted with RST (as that timeout would) and a
   * warning naming the cause is logged. Default 2000; `Infinity` turns it
   * off. On real timers the clock always moves and nothing is ended.
   */
  readonly stallTimeout?: number | undefined
}

/**
 * What is at a path, as a local socket's bind and connect find it: nothing,
 * a directory, a socket file, another kind of file, a path through a file
 * (`notDirectory`), or a path that cannot be searched (`denied`).
 *
 * @category models
 * @since 0.1.0
 */
export type PathKind = "missing" | "directory" | "socket" | "file" | "notDirectory" | "denied"

/**
 * A file system for the memory network's local sockets (see `Options.paths`):
 * `kind(path)` says what is at a path now. It should not throw (a check that
 * throws reads as `denied`).
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "@sluice/core"
 *
 * // a file system with /run and one regular file in it
 * const paths: MemoryNetwork.Paths = {
 *   kind: (path) =>
 *     path === "/" || path === "/run" ? "directory" : path === "/run/app.pid" ? "file" : "missing"
 * }
 * const network = MemoryNetwork.make({ paths })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Paths {
  readonly kind: (path: string) => PathKind
}

/**
 * The options of a memory network, or a fault, were refused: `field` names
 * the option (`bufferSize`, `faults[0].latency.toServer`, `ephemeralPorts`),
 * `detail` says what was expected and what was given.
 *
 * Raised by {@link layer}, {@link makeEffect} and {@link inject} (and by
 * `Testing.layerMemory`) before anything runs. {@link make}, outside Effect,
 * throws the same message as a `TypeError` (a value of the wrong kind, an
 * unknown field) or a `RangeError` (a value out of range), as a plain
 * JavaScript constructor does.
 *
 * @example
 * ```ts
 * import { MemoryNetwork, Network } from "@sluice/core"
 * import { Effect } from "effect"
 *
 * const program = Network.listen({ port: 0 }).pipe(
 *   Effect.scoped,
 *   Effect.provide(MemoryNetwork.layer({ bufferSize: 0 })),
 *   Effect.catchTag("InvalidOptions", (e) => Effect.logError(e.message)) // bufferSize: expected an integer ≥ 1, got 0
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>()("InvalidOptions", {
  field: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `memory network options: ${this.field}: ${this.detail}`
  }
}

const invalid = (problem: Problem): InvalidOptions =>
  new InvalidOptions({ field: problem.field, detail: problem.detail })

/**
 * Bytes in one direction of a connection.
 *
 * @category models
 * @since 0.1.0
 */
export interface DirectionSnapshot {
  /** Accepted by `write`, not yet taken by the network (the writer is blocked on these). */
  readonly queued: number
  /** On the way (latency, bandwidth, partition), or held by Nagle's algorithm until an ACK. */
  readonly inFlight: number
  /** Arrived, not yet read by the receiver. */
  readonly unread: number
  /** The sender's FIN left. */
  readonly finSent: boolean
}

/**
 * A connection with at least one end still open.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectionSnapshot {
  readonly id: string
  /** The dialing side's local address. */
  readonly client: Endpoint
  /** The listening side's local address. */
  readonly server: Endpoint
  readonly clientOpen: boolean
  readonly serverOpen: boolean
  readonly toServer: DirectionSnapshot
  readonly toClient: DirectionSnapshot
  readonly dropped: boolean
  readonly partitioned: boolean
}

/**
 * A bound listener.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenerSnapshot {
  readonly endpoint: Endpoint
  readonly backlog: number
  /** Connections waiting in the accept queue. */
  readonly pending: number
  /** Connections handed to the application so far. */
  readonly accepted: number
}

/**
 * What is open on a network, `netstat`-style.
 *
 * @category models
 * @since 0.1.0
 */
export interface Snapshot {
  readonly listeners: ReadonlyArray<ListenerSnapshot>
  readonly connections: ReadonlyArray<ConnectionSnapshot>
  /** Connect attempts still in progress. */
  readonly connecting: number
  /** Listeners + open connection ends + connects in progress: `0` when nothing leaked. */
  readonly open: number
}

/**
 * A memory network: its driver, its controls and its inspection.
 *
 * @category models
 * @since 0.1.0
 */
export interface MemoryNetworkShape {
  /** The driver, for `Network.make` or `createNet` from `@sluice/compat`. */
  readonly driver: Driver
  /** What is open now. */
  readonly snapshot: () => Snapshot
  /**
   * Sets (or replaces) a host table entry: one IP address or a non-empty list
   * of them (anything else throws a `TypeError` naming it).
   */
  readonly setHost: (name: string, addresses: string | ReadonlyArray<string>) => void
  /** Removes a host table entry: lookups of `name` fail with `ENOTFOUND`. */
  readonly removeHost: (name: string) => void
  /**
   * Adds a fault for connections opened from now on; returns its remover. A
   * fault with a bad field throws a `TypeError` or `RangeError` naming it (see
   * {@link InvalidOptions}).
   */
  readonly inject: (fault: Fault) => () => void
  /** Removes every fault. */
  readonly clearFaults: () => void
  /**
   * Cuts the link between two hosts (addresses or host table names): bytes,
   * FIN and RST wait, connects retry their SYN and time out after about two
   * minutes, until `heal`.
   */
  readonly partition: (a: string, b: string) => void
  /** Restores the link between two hosts, or every link without arguments. Waiting bytes flow again. */
  readonly heal: (a?: string, b?: string) => void
  /**
   * Drops matching connections (every open one without a predicate) without a
   * FIN or RST: nothing more arrives at either end; only timeouts notice (an
   * idle timeout, or `TimedOut` once unacknowledged bytes were retransmitted
   * for `retransmissionTimeout`).
   * Returns how many were dropped.
   */
  readonly drop: (select?: (connection: ConnectionSnapshot) => boolean) => number
  /**
   * Resets matching connections from the network: both ends see
   * `ECONNRESET`. Returns how many were reset.
   */
  readonly reset: (select?: (connection: ConnectionSnapshot) => boolean) => number
  /**
   * A host's process crashes (an address or a host table name): its
   * listeners and connection ends vanish without FIN or RST, its connects in
   * progress are dropped, and until `revive` it can neither dial
   * (`ENETDOWN`) nor listen (`EADDRNOTAVAIL`). Its peers see what a crash
   * looks like over TCP: a segment that reaches a vanished end — bytes in
   * flight to it, the peer's next write — is answered with RST
   * (`ConnectionReset`), a connect to a port it listened on is refused, and a
   * peer that sends nothing hears nothing (an idle timeout notices). Returns
   * how many listeners and connection ends vanished.
   */
  readonly kill: (host: string) => number
  /** A killed host may dial and listen again (its process restarted). */
  readonly revive: (host: string) => void
  /**
   * Deliveries queued for the coming turns of the event loop (data, ends,
   * errors, accepts, completions): `0` when nothing happens on the network
   * until time moves. A driver of virtual time yields until it is `0`.
   */
  readonly pending: () => number
  /** The events so far (with `trace: true`): equal for equal seeds and programs. */
  readonly trace: () => ReadonlyArray<string>
  /** Cancels the network's pending timers (the network is discarded). */
  readonly dispose: () => void
}

/**
 * The memory network in context, next to the `Network` built over it.
 *
 * @category services
 * @since 0.1.0
 */
export class MemoryNetwork extends Context.Service<MemoryNetwork, MemoryNetworkShape>()(
  "@sluice/core/MemoryNetwork"
) {}

const directionOf = (pipe: Pipe): DirectionSnapshot => ({
  queued: pipe.queued,
  inFlight: pipe.unsentBytes + pipe.flightBytes,
  unread: pipe.recvBytes,
  finSent: pipe.finSent
})

const snapshotOf = (net: VirtualNetwork): Snapshot => {
  const listeners: Array<ListenerSnapshot> = []
  for (const l of [...net.tcpListeners, ...net.ipcListeners.values()]) {
    listeners.push({ endpoint: l.local, backlog: l.backlog, pending: l.pending.length, accepted: l.accepted })
  }
  const connections: Array<ConnectionSnapshot> = []
  let ends = 0
  for (const c of net.connections) {
    if (!c.client.released) ends++
    if (!c.server.released) ends++
    connections.push({
      id: c.id,
      client: c.client.local,
      server: c.server.local,
      clientOpen: !c.client.released,
      serverOpen: !c.server.released,
      toServer: directionOf(c.up),
      toClient: directionOf(c.down),
      dropped: c.dropped,
      partitioned: net.partitioned(c.clientHost, c.serverHost)
    })
  }
  return {
    listeners,
    connections,
    connecting: net.pendingConnects.size,
    open: listeners.length + ends + net.pendingConnects.size
  }
}

/**
 * Builds an isolated memory network. Without `timers` it runs on real timers
 * (`setTimeout`): use it outside Effect, for instance with
 * `createNet(network.driver)` in a plain vitest or `node:test` test. Inside
 * Effect prefer {@link layer}, which runs on Effect's `Clock`. Bad options
 * throw a `TypeError` or a `RangeError` naming the field (see
 * {@link InvalidOptions}: the same check, typed, on the Effect face).
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "@sluice/core"
 *
 * const network = MemoryNetwork.make({ seed: 7, hosts: { "db.test": "10.0.0.5" } })
 * network.inject({ match: { port: 5432 }, slice: 2 })
 * // ... run the code under test over network.driver, then:
 * console.log(network.snapshot().open) // 0 when nothing leaked
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options?: Options & { readonly timers?: Timers | undefined }): MemoryNetworkShape => {
  const problem = checkOptions(options)
  if (problem !== undefined) throw thrown(problem, "MemoryNetwork.make")
  return build(options)
}

/** A network over options already checked. */
const build = (options: NetworkOptions | undefined): MemoryNetworkShape => {
  const net = new VirtualNetwork(options)
  const driver: Driver = {
    name: "memory",
    capabilities: { ipc: true, fd: false, reusePort: true, ipv6: true },
    timers: net.timers,
    connect: (target, callback) => net.connect(target, callback),
    listen: (target, events, callback) => net.listen(target, events, callback),
    lookup: (hostname, options, callback) => net.lookup(hostname, options, callback)
  }
  const select = (predicate: ((c: ConnectionSnapshot) => boolean) | undefined) => {
    const all = snapshotOf(net).connections
    const chosen = new Set(all.filter((c) => predicate === undefined || predicate(c)).map((c) => c.id))
    return [...net.connections].filter((c) => chosen.has(c.id))
  }
  return {
    driver,
    snapshot: () => snapshotOf(net),
    setHost: (name, addresses) => {
      const problem = typeof name === "string" && name.length > 0
        ? checkAddresses("addresses", addresses)
        : { field: "name", detail: "expected a non-empty host name", kind: "type" as const }
      if (problem !== undefined) throw thrown(problem, "setHost")
      net.setHost(name, addresses)
    },
    removeHost: (name) => net.removeHost(name),
    inject: (fault) => {
      const problem = checkFault("fault", fault)
      if (problem !== undefined) throw thrown(problem, "inject")
      net.rules.push(fault)
      return () => {
        const i = net.rules.indexOf(fault)
        if (i >= 0) net.rules.splice(i, 1)
      }
    },
    clearFaults: () => {
      net.rules.length = 0
    },
    partition: (a, b) => net.partition(a, b),
    heal: (a, b) => net.heal(a, b),
    drop: (predicate) => {
      const chosen = select(predicate)
      for (const c of chosen) {
        c.dropped = true
        net.record(`${c.id} dropped`)
      }
      return chosen.length
    },
    reset: (predicate) => {
      const chosen = select(predicate)
      for (const c of chosen) {
        net.record(`${c.id} reset by the network`)
        c.injectReset()
      }
      return chosen.length
    },
    pending: () => net.queue.size,
    kill: (host) => net.killHost(host),
    revive: (host) => net.reviveHost(host),
    trace: () => net.log ?? [],
    dispose: () => net.dispose()
  }
}

/**
 * Timers over an Effect context's `Clock`: `TestClock` drives them when the
 * context has it. Each pending timer is a fiber sleeping on that clock.
 *
 * @category constructors
 * @since 0.1.0
 */
export const timersFromContext = (context: Context.Context<never>): Timers => timersOn(context, turnsOf(context))

/** Runs a function on a later turn of the context's scheduler, which `TestClock` watches. */
const turnsOf = (context: Context.Context<never>): (f: () => void) => void => {
  const dispatcher = Context.get(context, Scheduler.Scheduler).makeDispatcher()
  return (f) => dispatcher.scheduleTask(f, 0)
}

const timersOn = (context: Context.Context<never>, turn: (f: () => void) => void): Timers => {
  const clock = Context.get(context, Clock.Clock)
  const run = Effect.runCallbackWith(context)
  return {
    now: () => clock.currentTimeMillisUnsafe(),
    schedule: (ms, f) => {
      // a due timer may complete synchronously inside `run`: never call back inside `schedule`
      let inside = true
      let cancelled = false
      const fire = () => {
        if (cancelled) return
        if (inside) turn(fire)
        else f()
      }
      const interrupt = run(Effect.andThen(clock.sleep(Duration.millis(Math.max(0, ms))), Effect.sync(fire)))
      inside = false
      return () => {
        cancelled = true
        interrupt()
      }
    }
  }
}

/**
 * Builds a memory network on the `Clock` of the current context (under
 * `TestClock`, virtual time). Its pending timers are cancelled when the scope
 * closes. Bad options fail with {@link InvalidOptions} naming the field.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeEffect = (options?: Options): Effect.Effect<MemoryNetworkShape, InvalidOptions, Scope.Scope> =>
  Effect.suspend(() => {
    const problem = checkOptions(options)
    if (problem !== undefined) return Effect.fail(invalid(problem))
    return Effect.gen(function*() {
      const context = yield* Effect.context<never>()
      // timers and deferred work on the context's scheduler: `TestClock` waits for what they run
      const turn = turnsOf(context)
      const log = Effect.runCallbackWith(context)
      const network = build({
        ...options,
        timers: timersOn(context, turn),
        queue: new TurnQueue(turn),
        warn: (message) => log(Effect.logWarning(message))
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => network.dispose()))
      return network
    })
  })

/**
 * Provides `Network` over a fresh, isolated memory network, and the
 * {@link MemoryNetwork} itself (faults, host table, snapshot). Each build of
 * the layer is a new network. Time is the `Clock` of the context the layer is
 * built in. Bad options fail the layer with {@link InvalidOptions} naming the
 * field.
 *
 * @example
 * ```ts
 * import { assert, it } from "@effect/vitest"
 * import { Effect } from "effect"
 * import { MemoryNetwork, Network } from "@sluice/core"
 *
 * it.effect("nobody listens", () =>
 *   Effect.gen(function*() {
 *     const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: "127.0.0.1", port: 9 })))
 *     assert.strictEqual(error.reason, "ConnectionRefused")
 *   }).pipe(Effect.provide(MemoryNetwork.layer())))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<Network.Network | MemoryNetwork, InvalidOptions> =>
  Layer.effectContext(
    Effect.map(
      makeEffect(options),
      (network) => Context.make(MemoryNetwork, network).pipe(Context.add(Network.Network, Network.make(network.driver)))
    )
  )

/**
 * What is open on the memory network in context.
 *
 * @category accessors
 * @since 0.1.0
 */
export const snapshot: Effect.Effect<Snapshot, never, MemoryNetwork> = MemoryNetwork.use((network) =>
  Effect.sync(network.snapshot)
)

/**
 * Adds a fault to the memory network in context until the scope closes. A
 * fault with a bad field fails with {@link InvalidOptions} naming it.
 *
 * @category accessors
 * @since 0.1.0
 */
export const inject = (fault: Fault): Effect.Effect<void, InvalidOptions, MemoryNetwork | Scope.Scope> =>
  MemoryNetwork.use((network) =>
    Effect.suspend(() => {
      const problem = checkFault("fault", fault)
      if (problem !== undefined) return Effect.fail(invalid(problem))
      return Effect.acquireRelease(Effect.sync(() => network.inject(fault)), (remove) => Effect.sync(remove))
    })
  ).pipe(Effect.asVoid)

/**
 * Cuts the link between two hosts of the memory network in context.
 *
 * @category accessors
 * @since 0.1.0
 */
export const partition = (a: string, b: string): Effect.Effect<void, never, MemoryNetwork> =>
  MemoryNetwork.use((network) => Effect.sync(() => network.partition(a, b)))

/**
 * Restores links of the memory network in context (all of them without arguments).
 *
 * @category accessors
 * @since 0.1.0
 */
export const heal = (a?: string, b?: string): Effect.Effect<void, never, MemoryNetwork> =>
  MemoryNetwork.use((network) => Effect.sync(() => network.heal(a, b)))
