/**
 * Regression: with `allowHalfOpen` off, the peer's FIN must not end our write
 * side while bytes it sent still wait unread in the socket: an echo server
 * that reads slower than the bytes arrive answers every byte, then ends (as
 * node:net ends its side only after `'end'`, once the reader had everything).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const CHUNK = 65536
const CHUNKS = 64

describe("peer half-close with allowHalfOpen off", () => {
  it.live(
    "a lagging echo through pull/writeAll answers every byte before its FIN",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const net = Network.make(driver)
        const server = yield* net.listen({ host: "127.0.0.1", port: 0 })
        const port = server.address._tag === "Tcp" ? server.address.port : 0
        // the echo yields before each write, so the reader lags and bytes are
        // still buffered in the socket when the client's FIN arrives
        const echo = (s: Socket.Socket) =>
          Socket.use(s, (s) =>
            Effect.catch(
              Effect.forever(Effect.flatMap(s.pull, (chunks) => Effect.andThen(Effect.yieldNow, s.writeAll(chunks)))),
              (e) => (Cause.isDone(e) ? Effect.void : Effect.fail(e))
            ))
        yield* Effect.forkScoped(Stream.runForEach(server.accept, (s) => Effect.forkScoped(Effect.ignore(echo(s)))))
        const client = yield* net.connect({ host: "127.0.0.1", port })
        const chunk = new Uint8Array(CHUNK).fill(7)
        const write = Effect.gen(function*() {
          for (let i = 0; i < CHUNKS; i++) yield* client.write(chunk)
          yield* client.endOfOutput
        })
        const [, received] = yield* Effect.all([
          write,
          Stream.runFold(client.reads, () => 0, (n, c) => n + c.length)
        ], { concurrency: 2 })
        assert.strictEqual(received, CHUNK * CHUNKS)
      })),
    30_000
  )
})
