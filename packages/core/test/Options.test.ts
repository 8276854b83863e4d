/**
 * The option rules of `connect` and `listen` on every driver: options that
 * are not an object, durations that are not durations ≥ 0, what `0` and
 * `Infinity` mean for each duration, durations beyond `setTimeout`'s limit,
 * options for another kind of target, getters. A bad option is a typed
 * `InvalidOptions` naming the field, and nothing is dialled or bound.
 */
import { assert, describe, it } from "@effect/vitest"
import type { LookupAddress, LookupOptions } from "@sluice/core/Driver"
import type { ConnectError, ListenError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { blackhole, ipcPath, pattern, run, tcpPort, text, tracked } from "./helpers.ts"

const takeOne = (s: Stream.Stream<Socket.Socket>) => Effect.map(Stream.runHead(s), Option.getOrThrow)

/** A lookup that answers `addresses` after `ms` milliseconds (a slow resolver). */
const slowLookup = (addresses: ReadonlyArray<LookupAddress>, ms: number) =>
(
  _host: string,
  _options: LookupOptions,
  cb: (e: undefined, a: ReadonlyArray<LookupAddress>) => void
) => {
  setTimeout(() => cb(undefined, addresses), ms)
}

const assertInvalid = (error: ConnectError | ListenError, field: string, what: string) => {
  assert.strictEqual(error.reason, "InvalidOptions", `${what}: ${error.message}`)
  assert.strictEqual(error.code, "EINVAL")
  assert.isTrue(error.detail?.startsWith(`${field}: `), `${what}: ${error.message} should name ${field}`)
}

/** Values given where options belong. */
const notObjects: ReadonlyArray<unknown> = [
  undefined,
  null,
  0,
  Number.NaN,
  "127.0.0.1",
  "",
  true,
  5n,
  Symbol("options"),
  () => ({ port: 80 }),
  [],
  [{ port: 80 }]
]

/** Values that are not a duration ≥ 0 (`Duration.fromInput` reads several of them as 0). */
const badDurations: ReadonlyArray<unknown> = [
  Number.NaN,
  -1,
  -Infinity,
  "-Infinity",
  "soon",
  "5",
  "",
  "-1 seconds",
  {},
  { seconds: Number.NaN },
  { seconds: "5" },
  { seconds: 1, extra: 1 },
  { sekunden: 5 },
  { seconds: -1 },
  [Number.NaN, 0],
  [1],
  [1, 2, 3],
  ["1", 0],
  [-1, 0],
  Duration.millis(-5),
  -5n,
  true,
  null,
  Symbol("duration"),
  () => 1000
]

const connectDurations = [
  "timeout",
  "idleTimeout",
  "closeTimeout",
  "autoSelectFamilyAttemptTimeout",
  "keepAliveInitialDelay"
] as const
const listenDurations = ["idleTimeout", "closeTimeout", "keepAliveInitialDelay"] as const

for (const d of drivers) {
  describe(`options on the ${d.name} driver`, () => {
    it.live("options that are not an object are InvalidOptions naming `options`; nothing is dialled or bound", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          for (const options of notObjects) {
            const what = typeof options === "symbol" ? "a symbol" : String(options)
            assertInvalid(
              yield* Effect.flip(Effect.scoped(Network.connect(options as Network.ConnectOptions))),
              "options",
              `connect(${what})`
            )
            assertInvalid(
              yield* Effect.flip(Effect.scoped(Network.listen(options as Network.ListenOptions))),
              "options",
              `listen(${what})`
            )
          }
          assert.deepStrictEqual([t.connects.length, t.listens.length], [0, 0])
        })
      )
    })

    it.live("durations: NaN, non-durations and negative values are refused, naming the field (serve's too)", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          for (const value of [...badDurations, Infinity, "Infinity"]) {
            // keepAliveInitialDelay is finite: Infinity is refused there only
            const finiteOnly = value === Infinity || value === "Infinity"
            for (const field of connectDurations) {
              if (finiteOnly && field !== "keepAliveInitialDelay") continue
              const options = { host: d.host, port: 1, [field]: value } as Network.ConnectOptions
              assertInvalid(yield* Effect.flip(Effect.scoped(Network.connect(options))), field, `connect ${field}`)
            }
            for (const field of listenDurations) {
              if (finiteOnly && field !== "keepAliveInitialDelay") continue
              const options = { host: d.host, port: 0, [field]: value } as Network.ListenOptions
              assertInvalid(yield* Effect.flip(Effect.scoped(Network.listen(options))), field, `listen ${field}`)
            }
          }
          assert.deepStrictEqual([t.connects.length, t.listens.length], [0, 0])
          const server = yield* Network.listen({ host: d.host, port: 0 })
          for (const value of badDurations) {
            const options = { gracePeriod: value } as Server.ServeOptions<never, never>
            const error = yield* Effect.flip(Server.serve(server, () => Effect.void, options))
            assertInvalid(error, "gracePeriod", "serve gracePeriod")
          }
          // the value shown in the message may be anything (String() throws on some)
          for (const value of [Object.create(null), Symbol("max"), [1], Number.NaN]) {
            const options = { maxConnections: value } as Server.ServeOptions<never, never>
            const error = yield* Effect.flip(Server.serve(server, () => Effect.void, options))
            assertInvalid(error, "maxConnections", "serve maxConnections")
            assertInvalid(yield* Effect.flip(server.setMaxConnections(value)), "maxConnections", "setMaxConnections")
          }
        })
      )
    })

    it.live("timeout: 0 is no deadline, like Infinity; a long one is not cut short: a slow lookup still connects", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          // 30 days and more: past setTimeout's 2^31 - 1 ms, which Node fires after 1 ms
          const timeouts: ReadonlyArray<Duration.Input> = [
            0,
            -0,
            "0 millis",
            Duration.zero,
            Infinity,
            "Infinity",
            "30 days",
            2 ** 31,
            Duration.weeks(60)
          ]
          for (const timeout of timeouts) {
            const socket = yield* Effect.scoped(
              Network.connect({
                host: "slow.test",
                port,
                timeout,
                lookup: slowLookup([{ address: d.host, family: 4 }], 30)
              }).pipe(Effect.map((s) => s.attempts.map((a) => a.outcome)))
            )
            assert.deepStrictEqual(socket, ["connected"], `timeout ${String(timeout)}`)
          }
          // a positive timeout is a deadline: the same slow lookup misses it
          const late = yield* Effect.flip(Effect.scoped(Network.connect({
            host: "slow.test",
            port,
            timeout: "5 millis",
            lookup: slowLookup([{ address: d.host, family: 4 }], 30)
          })))
          assert.strictEqual(late.reason, "TimedOut")
        })
      ))

    it.live("idleTimeout: 0 and Infinity are none; a duration beyond setTimeout's limit does not fire early", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          // 30 days is past setTimeout's 2^31 - 1 ms, which Node fires after 1 ms
          const lasting = yield* Effect.forEach(
            [0, Infinity, "Infinity", "30 days", Duration.days(400)] as const,
            (idleTimeout) => Network.connect({ host: d.host, port, idleTimeout })
          )
          const peers = yield* Stream.runCollect(Stream.take(server.accept, lasting.length))
          const brief = yield* Network.connect({ host: d.host, port, idleTimeout: "60 millis" })
          const error = yield* Effect.flip(Stream.runDrain(brief.reads))
          assert.strictEqual(error.reason, "TimedOut")
          // the others were idle as long, and still work
          yield* Effect.forEach(peers, (peer) => peer.write("still here"))
          for (const socket of lasting) assert.strictEqual(text(yield* socket.pull), "still here")
        })
      ))

    it.live("closeTimeout: 0 and Infinity are no bound, 30 days is 30 days: the close waits for a slow reader", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0, readHighWaterMark: 1024 })
          const port = tcpPort(server.address)
          const total = 32 * 1024 * 1024
          for (const closeTimeout of [0, Infinity, "30 days"] as const) {
            const written = yield* Deferred.make<number>()
            const closing = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
              const client = yield* Network.connect({
                host: d.host,
                port,
                writeHighWaterMark: 2 * total,
                closeTimeout
              })
              for (let i = 0; i < total / (1024 * 1024); i++) yield* client.write(pattern(1024 * 1024))
              yield* Deferred.succeed(written, yield* client.queuedBytes)
            })))
            const peer = yield* takeOne(server.accept)
            // the close begins with bytes still queued: the flush waits for this reader
            const queued = yield* Deferred.await(written)
            assert.isAbove(queued, 0, "the test needs a flush that cannot finish before the peer reads")
            const received = yield* Stream.runFold(peer.reads, () => 0, (n, chunk) => n + chunk.length)
            yield* Fiber.join(closing)
            assert.strictEqual(received, total, `closeTimeout ${closeTimeout}`)
          }
          assert.deepStrictEqual(t.handles.filter((h) => h.side === "client").map((h) => h.resets), [0, 0, 0])
        })
      )
    })

    it.live("autoSelectFamilyAttemptTimeout: 0 and Infinity are no attempt timeout: a hanging attempt is kept", () => {
      const hole = blackhole(d.make(), (target) => target._tag === "Tcp" && target.family === 6)
      return run(
        hole.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          for (const autoSelectFamilyAttemptTimeout of [0, Infinity] as const) {
            const error = yield* Effect.flip(Effect.scoped(Network.connect({
              host: "dual.test",
              port: tcpPort(server.address),
              autoSelectFamilyAttemptTimeout,
              timeout: "300 millis",
              lookup: slowLookup([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }], 0)
            })))
            assert.strictEqual(error.reason, "TimedOut")
            assert.deepStrictEqual(error.attempts?.map((a) => [a.address, a.outcome]), [["::1", "cancelled"]])
          }
          assert.strictEqual(hole.pending(), 0)
        })
      )
    })

    it.live("listen refuses an option for another kind of target, naming both fields; nothing is bound", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const path = ipcPath("rules")
          const cases: ReadonlyArray<readonly [Network.ListenOptions, string, string]> = [
            [{ path, port: 0 }, "port", "not allowed with path"],
            [{ path, host: d.host }, "host", "not allowed with path"],
            [{ path, fd: 3 }, "fd", "not allowed with path"],
            [{ path, ipv6Only: true }, "ipv6Only", "not allowed with path"],
            [{ path, reusePort: false }, "reusePort", "not allowed with path"],
            [{ fd: 3, port: 0 }, "port", "not allowed with fd"],
            [{ fd: 3, host: d.host }, "host", "not allowed with fd"],
            [{ fd: 3, ipv6Only: false }, "ipv6Only", "not allowed with fd"],
            [{ fd: 3, readableAll: true }, "readableAll", "not allowed with fd"],
            [{ port: 0, readableAll: true }, "readableAll", "only with path"],
            [{ port: 0, writableAll: false }, "writableAll", "only with path"],
            [{ host: d.host, removeStaleSocket: true }, "removeStaleSocket", "only with path"]
          ]
          for (const [options, field, rule] of cases) {
            const error = yield* Effect.flip(Network.listen(options))
            assertInvalid(error, field, JSON.stringify(options))
            assert.include(error.detail, rule)
          }
          assert.strictEqual(t.listens.length, 0)
          // each alone is fine
          const ipc = yield* Network.listen({ path, readableAll: true, writableAll: true, removeStaleSocket: true })
          assert.strictEqual(ipc.address._tag, "Ipc")
          const tcp = yield* Network.listen({ host: d.host, port: 0, ipv6Only: false })
          assert.strictEqual(tcp.address._tag, "Tcp")
        })
      )
    })

    it.live("connect refuses a TCP option with a path, naming both fields; nothing is dialled", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const path = ipcPath("rules")
          const lookup = slowLookup([], 0)
          const cases: ReadonlyArray<readonly [Network.ConnectOptions, string]> = [
            [{ path, host: d.host }, "host"],
            [{ path, port: 80 }, "port"],
            [{ path, localAddress: d.host }, "localAddress"],
            [{ path, localPort: 0 }, "localPort"],
            [{ path, family: 4 }, "family"],
            [{ path, hints: 0 }, "hints"],
            [{ path, lookup }, "lookup"],
            [{ path, autoSelectFamily: true }, "autoSelectFamily"],
            [{ path, autoSelectFamilyAttemptTimeout: "1 second" }, "autoSelectFamilyAttemptTimeout"]
          ]
          for (const [options, field] of cases) {
            const error = yield* Effect.flip(Effect.scoped(Network.connect(options)))
            assertInvalid(error, field, field)
            assert.include(error.detail, "not allowed with path")
          }
          assert.strictEqual(t.connects.length, 0)
          // the socket options are for every kind of target
          const server = yield* Network.listen({ path })
          const socket = yield* Network.connect({ path, noDelay: true, keepAlive: true, idleTimeout: "1 minute" })
          yield* socket.write("over ipc")
          assert.strictEqual(text(yield* (yield* takeOne(server.accept)).pull), "over ipc")
        })
      )
    })

    it.live("hints: 31 bits at most, and only the flags the driver's lookup knows (node:dns's); none is dialled", () => {
      const t = tracked(d.make())
      const known = t.driver.capabilities.lookupHints
      return run(
        t.driver,
        Effect.gen(function*() {
          for (const hints of [-1, 1.5, 2 ** 31, 2 ** 40, Number.NaN]) {
            const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: "localhost", port: 1, hints })))
            assertInvalid(error, "hints", String(hints))
          }
          // a bit no getaddrinfo flag uses, on any platform node:dns runs on
          const unknown = 0x40000000
          const outcome = yield* Effect.flip(
            Effect.scoped(Network.connect({ host: "localhost", port: 1, hints: unknown }))
          )
          if (known === undefined) {
            // a lookup without flags (the memory network's) takes any hints: nobody listens on port 1
            assert.strictEqual(outcome.reason, "ConnectionRefused")
            assert.isAbove(t.connects.length, 0)
          } else {
            assertInvalid(outcome, "hints", "an unknown flag")
            assert.strictEqual(t.connects.length, 0)
          }
          // the known flags pass
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const socket = yield* Network.connect({
            host: "localhost",
            port: tcpPort(server.address),
            family: 4,
            hints: known ?? 0
          })
          assert.strictEqual(socket.attempts.at(-1)?.outcome, "connected")
        })
      )
    })

    it.live("each option is read once; a getter that throws is InvalidOptions naming the field", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const reads: Record<string, number> = {}
          const counted = (values: Record<string, unknown>): object => {
            const options = {}
            for (const [key, value] of Object.entries(values)) {
              Object.defineProperty(options, key, {
                enumerable: true,
                get: () => {
                  reads[key] = (reads[key] ?? 0) + 1
                  return value
                }
              })
            }
            return options
          }
          const socket = yield* Network.connect(
            counted({ host: d.host, port: tcpPort(server.address), timeout: "1 second" }) as Network.ConnectOptions
          )
          yield* socket.write("read once")
          assert.deepStrictEqual(reads, { host: 1, port: 1, timeout: 1 })
          const throwing = (field: string): object =>
            Object.defineProperty({ host: d.host, port: 1 }, field, {
              enumerable: true,
              get: () => {
                throw new Error(`no ${field} today`)
              }
            })
          for (const field of ["host", "port", "timeout", "lookup"]) {
            const error = yield* Effect.flip(Effect.scoped(Network.connect(throwing(field) as Network.ConnectOptions)))
            assertInvalid(error, field, `a throwing ${field}`)
            assert.include(error.detail, `no ${field} today`)
          }
          for (const field of ["port", "backlog", "idleTimeout"]) {
            const error = yield* Effect.flip(Network.listen(throwing(field) as Network.ListenOptions))
            assertInvalid(error, field, `a throwing ${field}`)
          }
          assert.strictEqual(t.connects.length, 1)
        })
      )
    })
  })
}
