/**
 * The fixtures: the same test body on the memory network (virtual time) and
 * on real loopback sockets, and leak detection at the end of the test's scope.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Driver, ListenTarget } from "@sluice/core/Driver"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import type * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import * as Testing from "@sluice/core/Testing"
import { driver as nodeDriver } from "@sluice/node-adapter/NodeDriver"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Predicate from "effect/Predicate"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import {
  equalBytes,
  exchangeFrames,
  httpGet,
  httpHandler,
  makeFrames,
  reversed,
  reverseFrames
} from "./MemoryProtocols.ts"

const frames = makeFrames(10, 500, 3)

// one body, two networks
const body = Effect.gen(function*() {
  const server = yield* Testing.serve((socket) => reverseFrames(socket))
  assert.strictEqual(server.host, "127.0.0.1")
  assert.isAbove(server.port, 0)
  assert.deepInclude(server.address, { _tag: "Tcp", address: "127.0.0.1", port: server.port })
  const answers = yield* Effect.scoped(Effect.flatMap(server.connect(), (s) => exchangeFrames(s, frames)))
  assert.strictEqual(answers.length, frames.length)
  answers.forEach((a, i) => assert.isTrue(equalBytes(a, reversed(frames[i]!))))
  const http = yield* Testing.serve(httpHandler)
  const response = yield* Effect.scoped(Effect.flatMap(http.connect(), (s) => httpGet(s, "/fixture")))
  assert.strictEqual(response.body, "you asked for /fixture")
  return answers.length
})

describe("Testing fixtures", () => {
  it.effect("serve + connect on the memory network", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Testing.run(Testing.layerMemory(), body), frames.length)
    }))

  it.live("the same body on real loopback sockets", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Testing.run(Testing.layer(nodeDriver), body), frames.length)
    }))

  it.effect("serve on an IPC path", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const server = yield* Testing.serve((s) => Stream.run(s.reads, s.writes), { path: "/run/echo.sock" })
        assert.isUndefined(server.host)
        const socket = yield* server.connect()
        yield* socket.write("over a path")
        yield* socket.endOfOutput
        assert.strictEqual(yield* Stream.mkString(Stream.decodeText(socket.reads)), "over a path")
      })
    ))

  it.live("serve on an inherited descriptor adds no host or port (listen refuses them with fd)", () => {
    // a driver with descriptors, whose fd 3 is a listener on 127.0.0.1 of a memory network
    const memory = MemoryNetwork.make().driver
    const targets: Array<ListenTarget> = []
    const withFd: Driver = {
      ...memory,
      capabilities: { ...memory.capabilities, fd: true },
      listen: (target, events, callback) => {
        targets.push(target)
        memory.listen(
          target._tag === "Fd"
            ? {
              _tag: "Tcp",
              host: "127.0.0.1",
              port: 0,
              backlog: 511,
              exclusive: false,
              ipv6Only: false,
              reusePort: false
            }
            : target,
          events,
          callback
        )
      }
    }
    return Testing.run(
      Testing.layer(withFd),
      Effect.gen(function*() {
        const server = yield* Testing.serve((s) => Stream.run(s.reads, s.writes), { fd: 3 })
        assert.deepStrictEqual(targets, [{ _tag: "Fd", fd: 3, backlog: 511 }])
        assert.strictEqual(server.host, "127.0.0.1")
        assert.isAbove(server.port, 0)
        const socket = yield* server.connect()
        yield* socket.write("over an inherited listener")
        yield* socket.endOfOutput
        assert.strictEqual(yield* Stream.mkString(Stream.decodeText(socket.reads)), "over an inherited listener")
      })
    )
  })

  it.effect("serve's own options: null is not absent (InvalidOptions naming the field, as serve says)", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        for (const field of ["gracePeriod", "onHandlerError", "concurrency", "maxConnections", "dropWith"]) {
          const options = { [field]: null } as unknown as Testing.ServeOptions<never, never>
          const error = yield* Effect.flip(Testing.serve(() => Effect.void, options))
          assert.strictEqual(error.reason, "InvalidOptions", `${field}: ${error.message}`)
          assert.isTrue(error.detail?.startsWith(`${field}: `), `${field}: ${error.message}`)
        }
      })
    ))

  it.effect("a socket left open when the test's scope closes fails the test with LeakError", () =>
    Effect.gen(function*() {
      // the leaked socket lives in a scope that outlives the checked body
      const outside = yield* Scope.make()
      const error = yield* Effect.flip(Testing.run(
        Testing.layerMemory(),
        Effect.gen(function*() {
          const server = yield* Testing.serve(() => Effect.never)
          yield* Scope.provide(server.connect(), outside)
        })
      ))
      assert.strictEqual(error._tag, "LeakError")
      if (error._tag !== "LeakError") return
      assert.strictEqual(error.open.length, 1)
      assert.strictEqual(error.open[0]?.kind, "connection")
      assert.match(
        error.message,
        /^1 socket still open when the test's scope closed: connection 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/
      )
      yield* Scope.close(outside, Exit.void)
    }))

  it.effect("nothing is reported when everything closed, and the memory snapshot agrees", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* Testing.serve((s) => Stream.run(s.reads, s.writes))
          const socket = yield* server.connect()
          yield* socket.write("x")
          const during = yield* MemoryNetwork.snapshot
          assert.strictEqual(during.listeners.length, 1)
          assert.isAtLeast(during.open, 2)
        }))
        const after = yield* MemoryNetwork.snapshot
        assert.strictEqual(after.open, 0)
        assert.deepStrictEqual(yield* Testing.Sockets.use((s) => Effect.sync(s.open)), [])
        // a name from the host table works through the fixture's Network too
        const memory = yield* MemoryNetwork.MemoryNetwork
        memory.setHost("svc.test", "127.0.0.1")
        const server = yield* Testing.serve(httpHandler)
        const response = yield* Effect.scoped(
          Effect.flatMap(Network.connect({ host: "svc.test", port: server.port }), (s) => httpGet(s, "/named"))
        )
        assert.strictEqual(response.body, "you asked for /named")
      })
    ))

  describe("a handler's own failure fails the test", () => {
    const decoder = new TextDecoder()
    // a JSON handler that dies on bad input (JSON.parse throws)
    const jsonHandler = (socket: Socket.Socket) =>
      Effect.gen(function*() {
        const request = JSON.parse(decoder.decode((yield* socket.pull)[0])) as { readonly id: number }
        yield* socket.write(String(request.id))
      })
    const badRequest = Effect.gen(function*() {
      const server = yield* Testing.serve(jsonHandler)
      const client = yield* server.connect()
      yield* client.write("{ not json")
      yield* client.endOfOutput
      // the handler's socket is aborted: the client sees an empty reply or a reset, whatever it does next
      return yield* Effect.exit(Stream.runCollect(client.reads))
    })
    const handlerDefect = (cause: Cause.Cause<unknown>) => {
      const handlerError = cause.reasons.flatMap((r) =>
        r._tag === "Fail" && Predicate.isTagged(r.error, "HandlerError")
          ? [r.error as Server.HandlerError<unknown>]
          : []
      )[0]
      assert.isDefined(handlerError, Cause.pretty(cause))
      const defect = handlerError?.cause.reasons.find((r) => r._tag === "Die")
      assert.instanceOf(defect?._tag === "Die" ? defect.defect : undefined, SyntaxError)
      assert.include(handlerError?.message ?? "", "SyntaxError")
    }

    it.effect("on the memory network: the test fails with the HandlerError carrying the defect", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Testing.run(Testing.layerMemory(), badRequest))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) handlerDefect(exit.cause)
      }))

    it.live("on real sockets, alongside the body's own failure", () =>
      Effect.gen(function*() {
        const body = Effect.flatMap(badRequest, (reply) => reply)
        const exit = yield* Effect.exit(Testing.run(Testing.layer(nodeDriver), body))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) handlerDefect(exit.cause)
      }))

    it.effect("a peer's reset is not the handler's failure; an explicit onHandlerError keeps the failures", () =>
      Effect.gen(function*() {
        const reported: Array<Server.HandlerError<unknown>> = []
        yield* Testing.run(
          Testing.layerMemory(),
          Effect.gen(function*() {
            const echo = yield* Testing.serve((socket) => Stream.run(socket.reads, socket.writes))
            const scope = yield* Scope.make()
            const client = yield* Scope.provide(echo.connect(), scope)
            yield* client.write("x")
            yield* client.pull
            yield* Scope.close(scope, Exit.interrupt())
            yield* echo.serving.shutdown
            assert.strictEqual((yield* echo.serving.stats).disconnected, 1)
            const own = yield* Testing.serve(jsonHandler, {
              onHandlerError: (e) => Effect.sync(() => reported.push(e))
            })
            const other = yield* own.connect()
            yield* other.write("nope")
            yield* Effect.exit(Stream.runDrain(other.reads))
            yield* own.serving.shutdown
          })
        )
        assert.strictEqual(reported.length, 1)
      }))
  })
})
