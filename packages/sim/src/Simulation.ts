/**
 * Deterministic simulation of distributed Effect systems on one Sluice
 * memory network: named hosts, each with its own address and `Network`, the
 * processes they run (any `Layer`: an effect/rpc server, an effect/cluster
 * runner, an HTTP service), faults addressed by host — partitions between
 * sets of hosts, latency and bandwidth per link, resets of a host's
 * connections, crashes and restarts — all on virtual time, all seeded, with
 * a printable event log per host and a leak check over every host.
 *
 * **Model**
 *
 * - Host `i` (0-based) has the address `127.1.0.<i + 1>` and its name in the
 *   host table. Code on a host dials from that address and listens on it
 *   (`localhost`, `127.0.0.x`, `::1`, an unspecified host mean the host
 *   itself), so faults and traces can tell hosts apart. IPC paths are shared
 *   by every host.
 * - A process is a `Layer` built on a host ({@link SimulationShape.start})
 *   with the host's `Network`; it runs until its host is killed, or the
 *   simulation ends (then it is shut down gracefully).
 * - `kill` is a crash: the memory network makes the host's listeners and
 *   connection ends vanish without FIN or RST (peers see RST when they send
 *   to it, silence otherwise, a refused connect), then the host's processes
 *   are interrupted; their finalizers can no longer reach the network (every
 *   connect and listen of a dead incarnation fails). `restart` builds the same
 *   layers again, as a fresh process.
 * - Time is the context's `Clock`, `TestClock` under `it.effect`:
 *   {@link SimulationShape.advance} moves it in small steps and lets the
 *   network deliver what is due after each, {@link SimulationShape.drive}
 *   runs an effect while moving the clock until it completes.
 * - The same seed and the same program give the same interleaving, hence the
 *   same trace, byte for byte.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Simulation } from "@sluice/sim"
 * import { Effect } from "effect"
 *
 * it.effect("two hosts", () =>
 *   Simulation.run({ hosts: ["a", "b"], seed: 7 }, (sim) =>
 *     Effect.gen(function*() {
 *       yield* sim.partition("a", "b")
 *       yield* sim.advance("1 second")
 *       yield* sim.heal()
 *     })))
 * ```
 *
 * @since 0.1.0
 */
import { MemoryNetwork, Network, Testing } from "@sluice/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/testing/TestClock"
import { hostDriver } from "./internal/hostDriver.ts"
import * as Trace from "./internal/trace.ts"

/**
 * Options of a simulation.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** The hosts' names, in order: host `i` gets the address `127.1.0.<i + 1>`. */
  readonly hosts: ReadonlyArray<string>
  /** Seed of every random choice of the network (slicing, ephemeral ports). Default `1`. */
  readonly seed?: number | undefined
  /** How far {@link SimulationShape.advance} moves the clock at a time. Default 10 ms. */
  readonly step?: Duration.Input | undefined
  /** Memory network options other than the seed, the host table and the trace (faults from the start, ...). */
  readonly network?: Omit<MemoryNetwork.Options, "seed" | "hosts" | "trace" | "onTrace"> | undefined
}

/**
 * Latency and bandwidth of a link (both directions).
 *
 * @category models
 * @since 0.1.0
 */
export interface LinkOptions {
  /** Milliseconds each byte, FIN and RST travel (the handshake too). */
  readonly latency?: number | undefined
  /** Bytes per second. */
  readonly bandwidth?: number | undefined
}

/**
 * A process was asked for while its host is down (killed, not restarted).
 *
 * @category errors
 * @since 0.1.0
 */
export class HostDown extends Schema.TaggedError<HostDown>()("HostDown", { host: Schema.String }) {
  override get message(): string {
    return `host ${this.host} is down`
  }
}

/**
 * `drive` gave up: the effect had not completed after `limit` of virtual time.
 *
 * @category errors
 * @since 0.1.0
 */
export class DriveTimeout extends Schema.TaggedError<DriveTimeout>()("DriveTimeout", { limit: Schema.String }) {
  override get message(): string {
    return `not done after ${this.limit} of virtual time`
  }
}

/**
 * A named host.
 *
 * @category models
 * @since 0.1.0
 */
export interface Host {
  readonly name: string
  readonly address: string
  /** `false` between `kill` and `restart`. */
  readonly alive: boolean
  /** The `Network` of the host's current incarnation (dials from `address`, listens on it). */
  readonly network: Network.NetworkShape
  /** What is open on the host now (its listeners and connection ends). */
  readonly open: () => ReadonlyArray<Testing.OpenResource>
}

/**
 * A process started on a host: its services, for the incarnation running now.
 *
 * @category models
 * @since 0.1.0
 */
export interface Process<ROut> {
  readonly host: string
  /** The services of the running incarnation; `HostDown` while the host is killed. */
  readonly context: Effect.Effect<Context.Context<ROut>, HostDown>
  /** Runs `effect` with the running incarnation's services. */
  readonly use: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | HostDown, Exclude<R, ROut>>
}

/**
 * A simulation.
 *
 * @category models
 * @since 0.1.0
 */
export interface SimulationShape {
  readonly seed: number
  /** The memory network under the hosts (snapshot, low-level faults). */
  readonly memory: MemoryNetwork.MemoryNetworkShape
  readonly hosts: ReadonlyArray<Host>
  /** The host named `name` (a defect if there is none). */
  readonly host: (name: string) => Host
  /**
   * Builds `layer` as a process on `host`, with the host's `Network`. It runs
   * until the host is killed (a `restart` builds it again) or the simulation
   * shuts down.
   */
  readonly start: <ROut, E>(host: string, layer: Layer.Layer<ROut, E, Network.Network | CurrentHost>) => Effect.Effect<
    Process<ROut>,
    E | HostDown
  >
  /**
   * Crashes `host`: its listeners and connections vanish (see
   * `MemoryNetwork.kill`), then its processes are interrupted. Their
   * finalizers run on as the clock moves, cut off from the network.
   */
  readonly kill: (host: string) => Effect.Effect<void>
  /** Starts a killed host's processes again (the same layers, fresh). A defect if a layer fails to build. */
  readonly restart: (host: string) => Effect.Effect<void>
  /** Cuts every link between a host of `a` and a host of `b`: bytes wait, connects time out, until healed. */
  readonly partition: (a: string | ReadonlyArray<string>, b: string | ReadonlyArray<string>) => Effect.Effect<void>
  /** Cuts `host` off from every other host. */
  readonly isolate: (host: string) => Effect.Effect<void>
  /** Restores the links between `a` and `b`, or every link without arguments. */
  readonly heal: (a?: string | ReadonlyArray<string>, b?: string | ReadonlyArray<string>) => Effect.Effect<void>
  /**
   * Latency and bandwidth on the link between two hosts, for the connections
   * opened from now on (either way); returns its remover.
   */
  readonly link: (a: string, b: string, options: LinkOptions) => Effect.Effect<Effect.Effect<void>>
  /** The network resets every connection of `host`: both ends see `ConnectionReset`. Returns how many. */
  readonly resetConnections: (host: string) => Effect.Effect<number>
  /** Moves the clock by `duration`, in steps, letting the network deliver after each step. Needs `TestClock`. */
  readonly advance: (duration: Duration.Input) => Effect.Effect<void>
  /**
   * Runs `effect` while moving the clock, until it completes (its result) or
   * `limit` of virtual time passed (`DriveTimeout`, the effect interrupted).
   */
  readonly drive: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    limit: Duration.Input
  ) => Effect.Effect<A, E | DriveTimeout, R>
  /** Records an event of the test itself in the trace (for the hosts it names). */
  readonly note: (text: string, ...hosts: ReadonlyArray<string>) => Effect.Effect<void>
  /** Every event so far, one line each: virtual time, then the event with host names. */
  readonly trace: () => ReadonlyArray<string>
  /** The events involving `host`. */
  readonly traceOf: (host: string) => ReadonlyArray<string>
  /** The printable log: for each host, its events. Equal for equal seeds and programs. */
  readonly formatTrace: () => string
  /** What is open on every host (descriptions start with the host's name). */
  readonly open: () => ReadonlyArray<Testing.OpenResource>
  /** Fails with a `LeakError` if anything is open on any host or on the network. */
  readonly assertNoneOpen: Effect.Effect<void, Testing.LeakError>
  /**
   * Shuts every process down (gracefully, moving the clock until their
   * finalizers are done, at most `limit`, default 10 minutes of virtual time).
   */
  readonly shutdown: (limit?: Duration.Input) => Effect.Effect<void, DriveTimeout>
}

/**
 * The host a process runs on, in the context of every process: its name, its
 * address, and whether this incarnation still lives (`false` once the host
 * was killed, even after a restart: services of a dead process check it to
 * stay cut off, as the simulation's network does).
 *
 * @category services
 * @since 0.1.0
 */
export class CurrentHost extends Context.Service<CurrentHost, {
  readonly name: string
  readonly address: string
  readonly live: () => boolean
}>()("@sluice/sim/Simulation/CurrentHost") {}

/**
 * The simulation in context.
 *
 * @category services
 * @since 0.1.0
 */
export class Simulation extends Context.Service<Simulation, SimulationShape>()("@sluice/sim/Simulation") {}

interface Incarnation {
  readonly number: number
  readonly live: () => boolean
  readonly network: Network.NetworkShape
  readonly sockets: Testing.SocketsShape
}

interface HostState {
  readonly name: string
  readonly address: string
  alive: boolean
  incarnation: Incarnation
  /** Every incarnation's tracker: a dead one's sockets count until its teardown closed them. */
  readonly trackers: Array<Testing.SocketsShape>
  readonly processes: Array<ProcessState>
}

interface ProcessState {
  readonly build: (scope: Scope.Scope, state: HostState) => Effect.Effect<Context.Context<never>, unknown>
  scope: Scope.Closeable | undefined
  context: Context.Context<never> | undefined
}

const names = (x: string | ReadonlyArray<string>): ReadonlyArray<string> => typeof x === "string" ? [x] : x

/** Turns of the event loop given to the network after it looks idle, before time moves again. */
const IDLE_TURNS = 2
/** At most this many turns to settle after a step (a livelock guard). */
const MAX_TURNS = 100_000

/**
 * Builds a simulation on the current `Clock`. Its processes are shut down
 * and its network discarded when the scope closes (use {@link run} for the
 * shutdown and the leak check in a test). Bad `network` options fail with
 * `MemoryNetwork.InvalidOptions` naming the field.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<SimulationShape, MemoryNetwork.InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const seed = options.seed ?? 1
    const step = Duration.toMillis(Duration.fromInputUnsafe(options.step ?? Duration.millis(10)))
    const byName = new Map<string, HostState>()
    const byAddress = new Map<string, string>()
    const hostTable: Record<string, string> = {}
    options.hosts.forEach((name, i) => {
      const address = `127.1.0.${i + 1}`
      hostTable[name] = address
      byAddress.set(address, name)
    })
    const log = new Trace.TraceLog((address) => byAddress.get(address), options.hosts)
    // trace times count from the simulation's start (a TestClock may have moved before)
    const origin = yield* Clock.currentTimeMillis
    const memory = yield* MemoryNetwork.makeEffect({
      ...options.network,
      seed,
      hosts: hostTable,
      onTrace: (line, now) => log.network(line, now - origin)
    })
    const now = () => memory.driver.timers.now() - origin
    const stateOf = (name: string): HostState => {
      const state = byName.get(name)
      if (state === undefined) throw new Error(`no host named ${name} in this simulation`)
      return state
    }
    const incarnate = (state: { name: string; address: string }, number: number): Incarnation => {
      const live = () => {
        const current = byName.get(state.name)
        return current === undefined || (current.alive && current.incarnation.number === number)
      }
      const tracked = Testing.track(hostDriver(memory.driver, state.address, live))
      return { number, live, network: Network.make(tracked.driver), sockets: tracked.sockets }
    }
    const hostViews: Array<Host> = []
    for (const name of options.hosts) {
      const address = hostTable[name]!
      const first = incarnate({ name, address }, 0)
      const state: HostState = {
        name,
        address,
        alive: true,
        incarnation: first,
        trackers: [first.sockets],
        processes: []
      }
      byName.set(name, state)
      hostViews.push({
        name,
        address,
        get alive() {
          return state.alive
        },
        get network() {
          return state.incarnation.network
        },
        open: () => state.trackers.flatMap((t) => t.open())
      })
    }
    const event = (text: string, ...hosts: ReadonlyArray<string>) => log.event(text, hosts, now())

    const teardowns = new Set<Fiber.Fiber<void>>()
    const simScope = yield* Effect.scope
    const closeIn = (scope: Scope.Closeable, exit: Exit.Exit<unknown, unknown>) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkIn(Scope.close(scope, exit), simScope)
        teardowns.add(fiber)
        fiber.addObserver(() => teardowns.delete(fiber))
      })

    const launch = (state: HostState, process: ProcessState) =>
      Effect.gen(function*() {
        const scope = yield* Scope.fork(simScope, "sequential")
        const exit = yield* Effect.exit(process.build(scope, state))
        if (Exit.isFailure(exit)) {
          yield* Scope.close(scope, exit)
          return yield* Effect.failCause(exit.cause)
        }
        process.scope = scope
        process.context = exit.value
      })

    const settle = Effect.suspend(() => {
      let idle = 0
      let turns = 0
      return Effect.whileLoop({
        while: () => idle < IDLE_TURNS && turns < MAX_TURNS,
        body: () => Effect.yieldNow,
        step: () => {
          turns++
          idle = memory.pending() === 0 ? idle + 1 : 0
        }
      })
    })

    const stepClock = (ms: number) =>
      TestClock.testClockWith((clock) =>
        typeof clock.adjust === "function"
          ? clock.adjust(Duration.millis(ms))
          : Effect.die(new Error("Simulation: moving time needs TestClock (it.effect, or TestClock.layer())"))
      )

    const advance = (duration: Duration.Input) =>
      Effect.suspend(() => {
        let left = Duration.toMillis(Duration.fromInputUnsafe(duration))
        return Effect.andThen(
          settle,
          Effect.whileLoop({
            while: () => left > 0,
            body: () => {
              const ms = Math.min(step, left)
              left -= ms
              return Effect.andThen(stepClock(ms), settle)
            },
            step: () => {}
          })
        )
      })

    const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, limit: Duration.Input) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        const limitMs = Duration.toMillis(Duration.fromInputUnsafe(limit))
        let waited = 0
        yield* settle
        while (fiber.pollUnsafe() === undefined) {
          if (waited >= limitMs) {
            yield* Fiber.interrupt(fiber)
            return yield* new DriveTimeout({ limit: Duration.format(Duration.fromInputUnsafe(limit)) })
          }
          const ms = Math.min(step, limitMs - waited)
          waited += ms
          yield* stepClock(ms)
          yield* settle
        }
        return yield* Fiber.join(fiber)
      })

    const pairs = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => {
      const out: Array<readonly [HostState, HostState]> = []
      for (const x of a) for (const y of b) if (x !== y) out.push([stateOf(x), stateOf(y)])
      return out
    }

    const shutdown = (limit?: Duration.Input) =>
      Effect.gen(function*() {
        for (const state of [...byName.values()].toReversed()) {
          for (const process of state.processes.toReversed()) {
            const scope = process.scope
            process.scope = undefined
            process.context = undefined
            if (scope !== undefined) yield* closeIn(scope, Exit.void)
          }
        }
        yield* drive(
          Effect.suspend(() => Fiber.awaitAll([...teardowns])),
          limit ?? Duration.minutes(10)
        )
      })

    const simulation: SimulationShape = {
      seed,
      memory,
      hosts: hostViews,
      host: (name) => {
        stateOf(name)
        return hostViews.find((h) => h.name === name)!
      },
      start: <ROut, E>(host: string, layer: Layer.Layer<ROut, E, Network.Network | CurrentHost>) =>
        Effect.gen(function*() {
          const state = stateOf(host)
          if (!state.alive) return yield* new HostDown({ host })
          const process: ProcessState = {
            build: (scope, state) =>
              Layer.buildWithMemoMap(layer, Layer.makeMemoMapUnsafe(), scope).pipe(
                Effect.provideService(Network.Network, state.incarnation.network),
                Effect.provideService(CurrentHost, {
                  name: state.name,
                  address: state.address,
                  live: state.incarnation.live
                })
              ) as Effect.Effect<Context.Context<never>, E>,
            scope: undefined,
            context: undefined
          }
          yield* launch(state, process) as Effect.Effect<void, E>
          state.processes.push(process)
          const context = Effect.suspend(() =>
            process.context === undefined
              ? Effect.fail(new HostDown({ host }))
              : Effect.succeed(process.context as Context.Context<ROut>)
          )
          const handle: Process<ROut> = {
            host,
            context,
            use: <A, E2, R>(effect: Effect.Effect<A, E2, R>) =>
              Effect.flatMap(
                context,
                (services) => Effect.provideContext(effect, Context.merge(Context.empty(), services))
              ) as Effect.Effect<A, E2 | HostDown, Exclude<R, ROut>>
          }
          return handle
        }),
      kill: (host) =>
        Effect.gen(function*() {
          const state = stateOf(host)
          if (!state.alive) return
          state.alive = false
          memory.kill(state.address)
          for (const process of state.processes) {
            const scope = process.scope
            process.scope = undefined
            process.context = undefined
            if (scope !== undefined) yield* closeIn(scope, Exit.interrupt())
          }
          yield* settle
        }),
      restart: (host) =>
        Effect.gen(function*() {
          const state = stateOf(host)
          if (state.alive) return
          memory.revive(state.address)
          state.incarnation = incarnate(state, state.incarnation.number + 1)
          state.trackers.push(state.incarnation.sockets)
          state.alive = true
          for (const process of state.processes) yield* Effect.orDie(launch(state, process))
        }),
      partition: (a, b) =>
        Effect.sync(() => {
          for (const [x, y] of pairs(names(a), names(b))) memory.partition(x.address, y.address)
        }),
      isolate: (host) =>
        Effect.sync(() => {
          const me = stateOf(host)
          for (const other of byName.values()) if (other !== me) memory.partition(me.address, other.address)
        }),
      heal: (a, b) =>
        Effect.sync(() => {
          if (a === undefined || b === undefined) return memory.heal()
          for (const [x, y] of pairs(names(a), names(b))) memory.heal(x.address, y.address)
        }),
      link: (a, b, link) =>
        Effect.sync(() => {
          const x = stateOf(a)
          const y = stateOf(b)
          event(`link ${a} ${b} latency ${link.latency ?? 0} bandwidth ${link.bandwidth ?? "unlimited"}`, a, b)
          const removers = [
            memory.inject({ match: { client: x.address, host: y.address }, ...link }),
            memory.inject({ match: { client: y.address, host: x.address }, ...link })
          ]
          return Effect.sync(() => {
            event(`unlink ${a} ${b}`, a, b)
            for (const remove of removers) remove()
          })
        }),
      resetConnections: (host) =>
        Effect.sync(() => {
          const state = stateOf(host)
          event(`reset connections of ${host}`, host)
          return memory.reset((c) =>
            (c.client._tag === "Tcp" && c.client.address === state.address)
            || (c.server._tag === "Tcp" && c.server.address === state.address)
          )
        }),
      advance,
      drive,
      note: (text, ...hosts) => Effect.sync(() => event(text, ...hosts)),
      trace: () => Trace.lines(log.entries),
      traceOf: (host) => Trace.linesOf(log.entries, host),
      formatTrace: () => Trace.format(log.entries, options.hosts.map((name) => [name, hostTable[name]!] as const)),
      open: () =>
        hostViews.flatMap((h) => h.open().map((r) => ({ kind: r.kind, description: `${h.name}: ${r.description}` }))),
      assertNoneOpen: Effect.suspend(() => {
        const open = simulation.open()
        if (open.length > 0) return Effect.fail(new Testing.LeakError({ open }))
        const snapshot = memory.snapshot()
        if (snapshot.open === 0) return Effect.void
        return Effect.fail(
          new Testing.LeakError({
            open: [
              ...snapshot.listeners.map((l) => ({
                kind: "listener" as const,
                description: JSON.stringify(l.endpoint)
              })),
              ...snapshot.connections.map((c) => ({ kind: "connection" as const, description: c.id }))
            ]
          })
        )
      }),
      shutdown
    }
    yield* Effect.addFinalizer(() => Effect.ignore(shutdown()))
    return simulation
  })

/**
 * Runs a test body on a fresh simulation with a clock of its own (a fresh
 * `TestClock` from time 0, whatever the caller's clock, so every run of a
 * seed starts at the same instant): builds it, runs `body`, shuts every
 * process down (moving the clock until their finalizers are done), then
 * fails with a `LeakError` if anything is open on any host. A failure of the
 * body is logged with the seed that replays it and the end of the trace.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Simulation } from "@sluice/sim"
 * import { Effect } from "effect"
 *
 * it.effect("a crash", () =>
 *   Simulation.run({ hosts: ["a", "b"] }, (sim) => sim.kill("b")))
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run = <A, E, R>(
  options: Options,
  body: (simulation: SimulationShape) => Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | DriveTimeout | Testing.LeakError | MemoryNetwork.InvalidOptions,
  Exclude<R, Scope.Scope | Simulation>
> =>
  Effect.scoped(
    Effect.gen(function*() {
      const simulation = yield* make(options)
      const exit = yield* Effect.exit(
        Effect.scoped(Effect.provideService(body(simulation), Simulation, simulation))
      )
      if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
        yield* Effect.logError(
          `simulation failed; replay it with seed ${simulation.seed}. Last events:\n`
            + simulation.trace().slice(-40).join("\n")
        )
      }
      yield* simulation.shutdown()
      const value = yield* exit
      yield* simulation.assertNoneOpen
      return value
    })
  ).pipe(Effect.provide(TestClock.layer())) as Effect.Effect<
    A,
    E | DriveTimeout | Testing.LeakError | MemoryNetwork.InvalidOptions,
    Exclude<R, Scope.Scope | Simulation>
  >
