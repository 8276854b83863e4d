/**
 * `node examples/framing.ts`: a small key-value protocol built with
 * `Framing`, run on real loopback sockets and on a memory network that cuts
 * every write into 1-byte pieces.
 *
 * Requests are lines (`SET key value`, `GET key`); every answer is a
 * length-prefixed frame (a 2-byte length, then the bytes). The server decodes
 * lines and encodes frames; the client encodes lines and decodes frames. Then
 * a client that announces an oversize frame shows the server's typed
 * `FrameTooLarge`, and one that stops in the middle of a line its
 * `Truncated`. Exits 0 when every check holds.
 */
import { Framing, MemoryNetwork, Network, Server, Socket } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const answers = { headerSize: 2 } as const

/** The server: one line per request, one length-prefixed frame per answer, until the client ends. */
const keyValue = (store: Map<string, string>) => (socket: Socket.Socket) =>
  socket.reads.pipe(
    Framing.decodeLines({ maxFrameSize: 1024 }),
    Stream.map((line) => {
      const [command, key = "", ...value] = decoder.decode(line).split(" ")
      if (command === "SET") store.set(key, value.join(" "))
      const answer = command === "SET" ? "OK" : command === "GET" ? store.get(key) ?? "(nil)" : `ERR ${command}`
      return encoder.encode(answer)
    }),
    Framing.encodeLengthPrefixed(answers),
    Stream.run(socket.writes)
  )

/** The client: send every request, half-close, collect the answers. */
const session = (port: number, requests: ReadonlyArray<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* Network.connect({ host: "127.0.0.1", port, timeout: "5 seconds" })
    const sending = Stream.fromIterable(requests.map((r) => encoder.encode(r))).pipe(
      Framing.encodeLines({ terminator: "\r\n" }),
      Stream.run(socket.writes),
      Effect.andThen(socket.endOfOutput)
    )
    const receiving = Stream.runCollect(
      socket.reads.pipe(Framing.decodeLengthPrefixed(answers), Stream.map((frame) => decoder.decode(frame)))
    )
    const [, received] = yield* Effect.all([sending, receiving], { concurrency: 2 })
    return received
  }))

const check = (ok: boolean, what: string) => (ok ? Console.log(`  ok  ${what}`) : Effect.die(`FAILED: ${what}`))

const scenario = (name: string, network: Layer.Layer<Network.Network, MemoryNetwork.InvalidOptions>) =>
  Effect.gen(function*() {
    yield* Console.log(name)
    const store = new Map<string, string>()
    const failures: Array<Framing.FramingError> = []
    const failed = yield* Deferred.make<void>()
    const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
    yield* Server.serve(server, keyValue(store), {
      onHandlerError: (error) =>
        Effect.sync(() => {
          for (const reason of error.cause.reasons) {
            if (reason._tag === "Fail" && reason.error._tag === "FramingError") failures.push(reason.error)
          }
        }).pipe(
          Effect.andThen(
            Effect.suspend(() => failures.length === 2 ? Deferred.succeed(failed, undefined) : Effect.void)
          )
        )
    })
    const port = server.address._tag === "Tcp" ? server.address.port : 0

    const requests = [
      "SET greeting hello world",
      "GET greeting",
      "GET missing",
      ...Array.from({ length: 50 }, (_, i) => `SET k${i} ${"v".repeat(i)}`),
      "GET k49"
    ]
    const received = yield* session(port, requests)
    yield* check(received.length === requests.length, `${requests.length} requests, ${received.length} answers`)
    yield* check(received[1] === "hello world" && received[2] === "(nil)", "GET answers what SET stored")
    yield* check(received.at(-1) === "v".repeat(49), "the last answer is whole")

    // a line longer than 1024 bytes, then a line cut off by the end of input: typed errors on the server
    yield* Effect.scoped(Effect.gen(function*() {
      const socket = yield* Network.connect({ host: "127.0.0.1", port })
      yield* socket.write(`SET big ${"x".repeat(2000)}\n`)
      yield* Effect.ignore(Stream.runDrain(socket.reads))
    }))
    yield* Effect.scoped(Effect.gen(function*() {
      const socket = yield* Network.connect({ host: "127.0.0.1", port })
      yield* socket.write("GET greet")
      yield* socket.endOfOutput
      yield* Effect.ignore(Stream.runDrain(socket.reads))
    }))
    yield* Deferred.await(failed)
    const reasons = failures.map((f) => f.reason).toSorted()
    yield* check(
      reasons.join() === "FrameTooLarge,Truncated",
      `the server failed those connections with ${reasons.join(" and ")}`
    )
  }).pipe(Effect.scoped, Effect.provide(network))

const program = Effect.gen(function*() {
  yield* scenario("real loopback sockets", NodeNetwork.layer)
  yield* scenario(
    "memory network, every write cut into 1-byte pieces",
    MemoryNetwork.layer({ seed: 7, faults: [{ slice: 1 }] })
  )
})

Effect.runPromise(program).then(
  () => console.log("framing: every check passed"),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
