import { assert, describe, it } from "@effect/vitest"
import type { Driver, LookupAddress, LookupOptions } from "@sluice/core/Driver"
import * as Network from "@sluice/core/Network"
import type * as Socket from "@sluice/core/Socket"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { drivers } from "./drivers.ts"
import { blackhole, eventually, ipcPath, silentLookup, tcpPort, tracked } from "./helpers.ts"

const run = <A, E>(driver: Driver, effect: Effect.Effect<A, E, Network.Network>) =>
  Effect.provide(effect, Network.layer(driver))

const answering = (addresses: ReadonlyArray<LookupAddress>, seen?: Array<[string, LookupOptions]>) =>
(
  host: string,
  options: LookupOptions,
  cb: (e: undefined, a: ReadonlyArray<LookupAddress>) => void
) => {
  seen?.push([host, options])
  queueMicrotask(() => cb(undefined, addresses))
}

/** A port nobody listens on: bound, then released. */
const closedPort = (host: string) =>
  Effect.scoped(Effect.map(Network.listen({ host, port: 0 }), (s) => tcpPort(s.address)))

const takeOne = (s: Stream.Stream<Socket.Socket>) =>
  Effect.flatMap(
    Stream.runHead(s),
    (o) => (o._tag === "Some" ? Effect.succeed(o.value) : Effect.die("no connection"))
  )

for (const d of drivers) {
  describe(`connect on the ${d.name} driver`, () => {
    it.live("bad options are typed InvalidOptions errors naming the field and the value", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const cases: ReadonlyArray<readonly [Network.ConnectOptions, string, string]> = [
            [{ host: d.host, port: 70000 }, "port", "70000"],
            [{ host: d.host, port: -1 }, "port", "-1"],
            [{ host: d.host, port: 1.5 }, "port", "1.5"],
            [{ host: d.host, port: 80, family: 5 as 4 }, "family", "5"],
            [{ host: d.host, port: 80, localPort: 99999 }, "localPort", "99999"],
            [{ host: d.host, port: 80, localAddress: "not-an-ip" }, "localAddress", "not-an-ip"],
            [{ host: d.host, port: 80, readHighWaterMark: -3 }, "readHighWaterMark", "-3"],
            [{ host: d.host, port: 80, timeout: "soon" as "1 second" }, "timeout", "soon"],
            [{ host: d.host, port: 80, idleTimeout: "nope" as "1 second" }, "idleTimeout", "nope"],
            [{ host: 42 as unknown as string, port: 80 }, "host", "42"],
            [{ host: "", port: 80 }, "host", `got ""`],
            [{ path: "" }, "path", `got ""`],
            [{ host: d.host }, "port", "required"],
            [{ path: "/tmp/x", host: d.host, port: 80 }, "host", "not allowed with path"]
          ]
          for (const [options, field, value] of cases) {
            const error = yield* Effect.flip(Effect.scoped(Network.connect(options)))
            assert.strictEqual(error._tag, "ConnectError")
            assert.strictEqual(error.reason, "InvalidOptions", JSON.stringify(options))
            assert.strictEqual(error.code, "EINVAL")
            assert.include(error.message, field)
            assert.include(error.message, value)
          }
        })
      ))

    it.live("timeout is one deadline over a name lookup that never answers", () => {
      const lookup = silentLookup()
      return run(
        d.make(),
        Effect.gen(function*() {
          const start = Date.now()
          const error = yield* Effect.flip(
            Effect.scoped(
              Network.connect({ host: "never.test", port: 80, lookup: lookup.lookup, timeout: "100 millis" })
            )
          )
          const elapsed = Date.now() - start
          assert.strictEqual(error.reason, "TimedOut")
          assert.strictEqual(error.code, "ETIMEDOUT")
          assert.strictEqual(error.syscall, "connect")
          assert.strictEqual(error.address, "never.test")
          assert.strictEqual(error.port, 80)
          assert.deepStrictEqual(error.attempts, [])
          assert.strictEqual(lookup.calls(), 1)
          assert.isAtLeast(elapsed, 95)
          assert.isBelow(elapsed, 5000)
          assert.include(error.message, "100 ms")
        })
      )
    })

    const blackholed: ReadonlyArray<readonly [string, Network.ConnectOptions]> = [
      ["an address", { host: d.host }],
      // the lookup's answer comes before the lookup returns: its canceller must not replace the attempt's
      ["a name a custom lookup answers synchronously", {
        host: "sync.test",
        lookup: (_host, _options, cb) => cb(undefined, [{ address: d.host, family: 4 }])
      }]
    ]
    for (const [what, target] of blackholed) {
      it.live(`timeout bounds an attempt to a blackhole (${what}): cancelled, nothing stays open`, () => {
        const t = tracked(d.make())
        const hole = blackhole(t.driver, () => true)
        return run(
          hole.driver,
          Effect.gen(function*() {
            const server = yield* Network.listen({ host: d.host, port: 0 })
            const error = yield* Effect.flip(
              Effect.scoped(Network.connect({ ...target, port: tcpPort(server.address), timeout: "100 millis" }))
            )
            assert.strictEqual(error.reason, "TimedOut")
            assert.strictEqual(error.attempts?.length, 1)
            assert.strictEqual(error.attempts?.[0]?.outcome, "cancelled")
            assert.strictEqual(error.attempts?.[0]?.address, d.host)
            assert.strictEqual(hole.pending(), 0)
            assert.strictEqual(hole.cancelled(), 1)
            // the blackholed connect may have opened a handle underneath: it was closed;
            // the server side of it closes when the server's scope does
            assert.isTrue(t.handles.every((h) => h.closes + h.resets <= 1))
          }).pipe(Effect.scoped, Effect.andThen(eventually(() => t.open() === 0, "every handle closed")))
        )
      })
    }

    it.live("a process waiting on nothing but a connect's deadline stays alive until it fails the connect", () =>
      Effect.promise(() =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const fixture = new URL("./fixtures/connect-deadline.ts", import.meta.url).pathname
          // this runtime runs the fixture from the sources (the suite runs on Bun and Deno too)
          const versions = process.versions as Record<string, string | undefined>
          const runtime = versions["deno"] !== undefined ? ["run", "--allow-all"] : []
          const args = [...runtime, "--conditions=@sluice/source", fixture, d.name]
          const child = spawn(process.execPath, args, { timeout: 15_000 })
          let out = ""
          child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
          child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()))
          child.on("close", (code) => resolve({ code, out }))
        })
      ).pipe(Effect.map(({ code, out }) => {
        assert.strictEqual(code, 0, out)
        assert.match(out, /^TimedOut: connect ETIMEDOUT never\.test:80 .*connect deadline of 150 ms elapsed\n$/)
      })))

    it.live("the deadline spans lookup and attempts together: a slow lookup leaves less time to connect", () => {
      const t = tracked(d.make())
      const hole = blackhole(t.driver, () => true)
      return run(
        hole.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          let answeredAt = 0
          const slowLookup = (
            _host: string,
            _options: LookupOptions,
            cb: (e: undefined, a: ReadonlyArray<LookupAddress>) => void
          ) => {
            setTimeout(() => {
              answeredAt = Date.now()
              cb(undefined, [{ address: "127.0.0.1", family: 4 }])
            }, 200)
          }
          const start = Date.now()
          const error = yield* Effect.flip(Effect.scoped(Network.connect({
            host: "slow.test",
            port: tcpPort(server.address),
            lookup: slowLookup,
            timeout: "400 millis"
          })))
          const elapsed = Date.now() - start
          assert.strictEqual(error.reason, "TimedOut")
          assert.isAbove(answeredAt, 0)
          // one deadline over both phases: it ends 400 ms after the start, not
          // 400 ms after the lookup answered (timers never fire early)
          assert.isAtLeast(elapsed, 395)
          assert.isBelow(elapsed, answeredAt - start + 400)
          assert.strictEqual(error.attempts?.length, 1)
          assert.strictEqual(error.attempts?.[0]?.outcome, "cancelled")
          assert.strictEqual(hole.pending(), 0)
        }).pipe(Effect.scoped, Effect.andThen(eventually(() => t.open() === 0, "every handle closed")))
      )
    })

    it.live("interrupting a connect during name lookup cancels it and leaves nothing open", () => {
      const t = tracked(d.make())
      const lookup = silentLookup()
      return run(
        t.driver,
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(
            Effect.scoped(Network.connect({ host: "never.test", port: 80, lookup: lookup.lookup }))
          )
          yield* eventually(() => lookup.calls() === 1, "lookup called")
          yield* Fiber.interrupt(fiber)
          const exit = yield* Fiber.await(fiber)
          assert.isTrue(Exit.hasInterrupts(exit))
          assert.strictEqual(t.connects.length, 0)
          assert.strictEqual(t.open(), 0)
        })
      )
    })

    it.live("interrupting a connect during an attempt cancels it and leaves nothing open", () => {
      const t = tracked(d.make())
      const hole = blackhole(t.driver, () => true)
      return run(
        hole.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const fiber = yield* Effect.forkChild(
            Effect.scoped(Network.connect({ host: d.host, port: tcpPort(server.address) }))
          )
          yield* eventually(() => hole.pending() === 1, "attempt pending")
          yield* Fiber.interrupt(fiber)
          assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
          assert.strictEqual(hole.pending(), 0)
          assert.strictEqual(hole.cancelled(), 1)
        }).pipe(Effect.scoped, Effect.andThen(eventually(() => t.open() === 0, "every handle closed")))
      )
    })

    it.live("autoSelectFamily tries the addresses in turn and records each attempt on the socket", () =>
      run(
        d.make(),
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const port = tcpPort(server.address)
          const socket = yield* Network.connect({
            host: "dual.test",
            port,
            lookup: answering([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }])
          })
          assert.strictEqual(socket.attempts.length, 2)
          const [first, second] = socket.attempts
          assert.strictEqual(first?.address, "::1")
          assert.strictEqual(first?.family, 6)
          assert.strictEqual(first?.outcome, "failed")
          assert.strictEqual(first?.code, "ECONNREFUSED")
          assert.strictEqual(second?.address, "127.0.0.1")
          assert.strictEqual(second?.family, 4)
          assert.strictEqual(second?.outcome, "connected")
          assert.isAtLeast(second?.durationMs ?? -1, 0)
          assert.strictEqual(tcpPort(socket.remoteAddress), port)
        }))
      ))

    it.live("an attempt that hangs past the attempt timeout is abandoned for the next family", () => {
      const t = tracked(d.make())
      const hole = blackhole(t.driver, (target) => target._tag === "Tcp" && target.family === 6)
      return run(
        hole.driver,
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const socket = yield* Network.connect({
            host: "dual.test",
            port: tcpPort(server.address),
            autoSelectFamilyAttemptTimeout: "50 millis",
            lookup: answering([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }])
          })
          assert.deepStrictEqual(socket.attempts.map((a) => [a.address, a.outcome]), [
            ["::1", "timedOut"],
            ["127.0.0.1", "connected"]
          ])
          assert.isAtLeast(socket.attempts[0]?.durationMs ?? 0, 45)
          assert.strictEqual(hole.pending(), 0)
        }))
      )
    })

    it.live("when every attempt fails, the error carries every attempt", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const port = yield* closedPort("127.0.0.1")
          const error = yield* Effect.flip(Effect.scoped(Network.connect({
            host: "dual.test",
            port,
            lookup: answering([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }])
          })))
          assert.strictEqual(error.reason, "ConnectionRefused")
          assert.deepStrictEqual(error.attempts?.map((a) => [a.address, a.outcome, a.code]), [
            ["::1", "failed", "ECONNREFUSED"],
            ["127.0.0.1", "failed", "ECONNREFUSED"]
          ])
          assert.include(error.message, "::1")
          assert.include(error.message, "127.0.0.1")
        })
      ))

    it.live("autoSelectFamily off dials only the first address", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const port = yield* closedPort("127.0.0.1")
          const error = yield* Effect.flip(Effect.scoped(Network.connect({
            host: "dual.test",
            port,
            autoSelectFamily: false,
            lookup: answering([{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }])
          })))
          assert.strictEqual(error.reason, "ConnectionRefused")
          assert.strictEqual(error.attempts?.length, 1)
          assert.strictEqual(error.address, "::1")
        })
      ))

    it.live("family and hints reach the lookup; the driver's lookup resolves localhost", () => {
      const seen: Array<[string, LookupOptions]> = []
      return run(
        d.make(),
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const port = tcpPort(server.address)
          yield* Network.connect({
            host: "v4.test",
            port,
            family: 4,
            hints: 1024,
            lookup: answering([{ address: "127.0.0.1", family: 4 }], seen)
          })
          assert.deepStrictEqual(seen, [["v4.test", { family: 4, hints: 1024, all: true }]])
          const viaDriver = yield* Network.connect({ host: "localhost", port, family: 4 })
          assert.strictEqual(viaDriver.remoteAddress?._tag, "Tcp")
          assert.strictEqual(tcpPort(viaDriver.remoteAddress), port)
        }))
      )
    })

    it.live("localAddress and localPort bind the client's end", () =>
      run(
        d.make(),
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const localPort = yield* closedPort("127.0.0.1")
          const socket = yield* Network.connect({
            host: "127.0.0.1",
            port: tcpPort(server.address),
            localAddress: "127.0.0.1",
            localPort
          })
          assert.deepStrictEqual(socket.localAddress, {
            _tag: "Tcp",
            address: "127.0.0.1",
            port: localPort,
            family: "IPv4"
          })
          const accepted = yield* takeOne(server.accept)
          assert.strictEqual(tcpPort(accepted.remoteAddress), localPort)
        }))
      ))

    it.live("noDelay, keepAlive and its initial delay are applied at connect and on the live socket", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const socket = yield* Network.connect({
            host: d.host,
            port: tcpPort(server.address),
            noDelay: true,
            keepAlive: true,
            keepAliveInitialDelay: "2 seconds"
          })
          const log = t.handles.find((h) => h.side === "client")!
          assert.deepStrictEqual(log.noDelay, [true])
          assert.deepStrictEqual(log.keepAlive, [[true, 2000]])
          yield* socket.setNoDelay(false)
          yield* socket.setKeepAlive(false)
          yield* socket.setKeepAlive(true, 500)
          yield* socket.setKeepAlive(true, "3 seconds")
          const bad = yield* Effect.flip(socket.setKeepAlive(true, -1))
          assert.strictEqual(bad._tag, "SocketError")
          assert.strictEqual(bad.reason, "InvalidOptions")
          assert.strictEqual(bad.syscall, "setKeepAlive")
          assert.include(bad.message, "initialDelay: expected a duration ≥ 0, got -1")
          const never = yield* Effect.flip(socket.setKeepAlive(true, Duration.infinity))
          assert.include(never.message, "initialDelay: expected a finite duration, got Infinity")
          assert.deepStrictEqual(log.noDelay, [true, false])
          assert.deepStrictEqual(log.keepAlive, [[true, 2000], [false, 0], [true, 500], [true, 3000]])
        }))
      )
    })

    it.live("connects to a local (IPC) path; both addresses are the path", () =>
      run(
        d.make(),
        Effect.scoped(Effect.gen(function*() {
          const path = ipcPath()
          const server = yield* Network.listen({ path })
          assert.deepStrictEqual(server.address, { _tag: "Ipc", path })
          const socket = yield* Network.connect({ path, timeout: "2 seconds" })
          assert.deepStrictEqual(socket.remoteAddress, { _tag: "Ipc", path })
          assert.deepStrictEqual(socket.attempts, [])
          yield* socket.write("over ipc")
        }))
      ))
  })
}
