import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { eventually, ipcPath, pattern, run, tcpPort, text, tracked } from "./helpers.ts"

const takeOne = (s: Stream.Stream<Socket.Socket>) =>
  Effect.flatMap(Stream.runHead(s), (o) => (Option.isSome(o) ? Effect.succeed(o.value) : Effect.die("no connection")))

/** A connected pair: the client socket and the server's accepted socket. */
const pair = (
  host: string,
  listen: Network.ListenOptions = {},
  connect: Partial<Network.ConnectOptions> = {}
) =>
  Effect.gen(function*() {
    const server = yield* Network.listen({ host, port: 0, ...listen })
    const client = yield* Network.connect({ host, port: tcpPort(server.address), ...connect })
    const peer = yield* takeOne(server.accept)
    return { server, client, peer }
  })

const drain = (socket: Socket.Socket) => Effect.map(Stream.runCollect(socket.reads), text)

const sum = (chunks: Iterable<Uint8Array>) => {
  let n = 0
  let s = 0
  for (const c of chunks) {
    n += c.length
    for (let i = 0; i < c.length; i++) s = (s + c[i]!) % 1_000_000_007
  }
  return [n, s] as const
}

for (const d of drivers) {
  describe(`Socket on the ${d.name} driver`, () => {
    it.live("a slow reader makes the peer's writes block; buffered bytes stay bounded", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const readHighWaterMark = 16 * 1024
          const writeHighWaterMark = 64 * 1024
          const chunkSize = 256 * 1024
          const chunks = 128 // 32 MiB, far more than every buffer on the way
          const { client, peer } = yield* pair(d.host, { readHighWaterMark }, { writeHighWaterMark })
          const payload = pattern(chunkSize)
          let written = 0
          let maxQueued = 0
          const writer = yield* Effect.forkChild(Effect.gen(function*() {
            for (let i = 0; i < chunks; i++) {
              yield* client.write(payload)
              written++
              maxQueued = Math.max(maxQueued, yield* client.queuedBytes)
            }
            yield* client.endOfOutput
          }))
          // nobody reads: the writer cannot finish, whatever the time given
          const early = yield* Effect.timeoutOption(Fiber.await(writer), "300 millis")
          assert.isTrue(Option.isNone(early), "writes completed although nobody read")
          assert.isBelow(written, chunks)
          assert.isAtMost(maxQueued, writeHighWaterMark + chunkSize)
          assert.isAtMost(yield* peer.bufferedBytes, readHighWaterMark + 256 * 1024)
          // now read, one batch at a time, checking each batch is bounded
          let received = 0
          let batches = 0
          let biggest = 0
          let checksum = 0
          for (;;) {
            const exit = yield* Effect.exit(peer.pull)
            if (Exit.isFailure(exit)) {
              const error = Cause.findErrorOption(exit.cause)
              assert.isTrue(Option.isSome(error) && Cause.isDone(error.value), "a clean end of input")
              break
            }
            const [n, s] = sum(exit.value)
            received += n
            checksum = (checksum + s) % 1_000_000_007
            biggest = Math.max(biggest, n)
            batches++
          }
          assert.strictEqual(received, chunks * chunkSize)
          assert.strictEqual(checksum, (sum([payload])[1] * chunks) % 1_000_000_007)
          // past the mark by at most one read of the platform (libuv reads 64 KiB at most, Bun 512 KiB)
          assert.isAtMost(biggest, readHighWaterMark + 512 * 1024)
          assert.isAbove(batches, 32)
          assert.isTrue(Exit.isSuccess(yield* Fiber.await(writer)))
          assert.strictEqual(yield* peer.bytesRead, chunks * chunkSize)
          assert.strictEqual(yield* client.bytesWritten, chunks * chunkSize)
        })
      ))

    it.live("endOfOutput from the client: the server reads a clean end and, allowHalfOpen off, ends too", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host, { allowHalfOpen: false })
          yield* client.write("ping")
          yield* client.endOfOutput
          assert.strictEqual(yield* drain(peer), "ping")
          // the engine ended the server's write side for it
          assert.strictEqual(yield* drain(client), "")
          const late = yield* Effect.flip(peer.write("too late"))
          assert.strictEqual(late.reason, "BrokenPipe")
        })
      ))

    it.live("endOfOutput from the client with allowHalfOpen on: the server still writes after the end", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host, { allowHalfOpen: true })
          yield* client.write("ping")
          yield* client.endOfOutput
          assert.strictEqual(yield* drain(peer), "ping")
          yield* peer.write("pong after your end")
          yield* peer.endOfOutput
          assert.strictEqual(yield* drain(client), "pong after your end")
        })
      ))

    it.live("endOfOutput from the server: the client ends too unless it allows half-open", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const closed = yield* pair(d.host, {}, { allowHalfOpen: false })
          yield* closed.peer.write("bye")
          yield* closed.peer.endOfOutput
          assert.strictEqual(yield* drain(closed.client), "bye")
          assert.strictEqual(yield* drain(closed.peer), "")
          assert.strictEqual((yield* Effect.flip(closed.client.write("x"))).reason, "BrokenPipe")

          const open = yield* pair(d.host, {}, { allowHalfOpen: true })
          yield* open.peer.endOfOutput
          assert.strictEqual(yield* drain(open.client), "")
          yield* open.client.write("still talking")
          yield* open.client.endOfOutput
          assert.strictEqual(yield* drain(open.peer), "still talking")
        })
      ))

    it.live("the idle timeout ends the socket with a typed TimedOut; the peer sees a reset", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const start = Date.now()
          const { client, peer } = yield* pair(d.host, {}, { idleTimeout: "100 millis" })
          const error = yield* Effect.flip(Stream.runDrain(client.reads))
          assert.strictEqual(error._tag, "SocketError")
          assert.strictEqual(error.reason, "TimedOut")
          assert.strictEqual(error.code, "ETIMEDOUT")
          assert.include(error.message, "idle")
          assert.isAtLeast(Date.now() - start, 95)
          assert.strictEqual((yield* Effect.flip(client.write("x"))).reason, "TimedOut")
          const peerError = yield* Effect.flip(Stream.runDrain(peer.reads))
          assert.strictEqual(peerError.reason, "ConnectionReset")
        })
      ))

    it.live("activity keeps an idle timeout from firing; listen's idleTimeout applies to accepted sockets", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host, { idleTimeout: "300 millis" })
          // keep the server's socket busy past its timeout
          for (let i = 0; i < 5; i++) {
            yield* client.write("tick")
            const batch = yield* peer.pull
            assert.isAbove(batch.length, 0)
            yield* Effect.sleep("30 millis")
          }
          const error = yield* Effect.flip(Stream.runDrain(peer.reads))
          assert.strictEqual(error.reason, "TimedOut")
        })
      ))

    it.live("interruption aborts with RST: the peer's read fails with ConnectionReset", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
            const client = yield* Network.connect({ host: d.host, port: tcpPort(server.address) })
            yield* client.write("about to be interrupted")
            return yield* Effect.never
          })))
          const peer = yield* takeOne(server.accept)
          assert.strictEqual(text(yield* peer.pull), "about to be interrupted")
          yield* Fiber.interrupt(fiber)
          const error = yield* Effect.flip(Stream.runDrain(peer.reads))
          assert.strictEqual(error.reason, "ConnectionReset")
          assert.strictEqual(error.code, "ECONNRESET")
        })
      ))

    it.live("failure aborts with RST, success closes gracefully after the last byte", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          const failed = yield* Effect.exit(Effect.scoped(Effect.gen(function*() {
            const client = yield* Network.connect({ host: d.host, port })
            yield* client.write("x")
            return yield* Effect.fail("boom")
          })))
          assert.isTrue(Exit.isFailure(failed))
          const aborted = yield* takeOne(server.accept)
          assert.strictEqual((yield* Effect.flip(Stream.runDrain(aborted.reads))).reason, "ConnectionReset")

          const payload = pattern(1024 * 1024, 7)
          const reader = yield* Effect.forkChild(
            Effect.flatMap(takeOne(server.accept), (graceful) => Stream.runCollect(graceful.reads))
          )
          yield* Effect.scoped(Effect.gen(function*() {
            const client = yield* Network.connect({ host: d.host, port, writeHighWaterMark: 4 * 1024 * 1024 })
            yield* client.write(payload) // returns at once: queued below the high-water mark
          }))
          const received = yield* Fiber.join(reader)
          assert.deepStrictEqual(sum(received), sum([payload]))
        })
      ))

    it.live("a graceful close is bounded: a peer that never reads cannot hang the scope", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0, readHighWaterMark: 1024 })
          const port = tcpPort(server.address)
          const start = Date.now()
          yield* Effect.scoped(Effect.gen(function*() {
            const client = yield* Network.connect({
              host: d.host,
              port,
              writeHighWaterMark: 256 * 1024 * 1024,
              closeTimeout: "200 millis"
            })
            // far more than the kernel buffers: the flush can never finish
            for (let i = 0; i < 64; i++) yield* client.write(pattern(1024 * 1024))
          }))
          const elapsed = Date.now() - start
          assert.isAtLeast(elapsed, 190)
          assert.isBelow(elapsed, 5000)
          const client = t.handles.find((h) => h.side === "client")!
          assert.strictEqual(client.resets, 1, "aborted after the close timeout")
          const peer = yield* takeOne(server.accept)
          const error = yield* Effect.flip(Stream.runDrain(peer.reads))
          assert.strictEqual(error.reason, "ConnectionReset")
        })
      )
    })

    it.live("byte counters and addresses on both ends (TCP)", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer, server } = yield* pair(d.host)
          yield* client.writeAll([pattern(100), pattern(23)])
          yield* peer.write(pattern(7))
          const got = yield* peer.pull
          assert.strictEqual(sum(got)[0], 123)
          assert.strictEqual(sum(yield* client.pull)[0], 7)
          assert.strictEqual(yield* client.bytesWritten, 123)
          assert.strictEqual(yield* peer.bytesRead, 123)
          assert.strictEqual(yield* peer.bytesWritten, 7)
          assert.strictEqual(yield* client.bytesRead, 7)
          assert.deepStrictEqual(client.remoteAddress, server.address)
          assert.deepStrictEqual(peer.localAddress, server.address)
          assert.deepStrictEqual(client.localAddress, peer.remoteAddress)
          assert.strictEqual(client.localAddress?._tag, "Tcp")
          assert.notStrictEqual(tcpPort(client.localAddress), tcpPort(server.address))
        })
      ))

    it.live("addresses of an IPC connection are its path; bytes flow both ways", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const path = ipcPath()
          const server = yield* Network.listen({ path })
          const client = yield* Network.connect({ path })
          const peer = yield* takeOne(server.accept)
          assert.deepStrictEqual(client.remoteAddress, { _tag: "Ipc", path })
          assert.deepStrictEqual(peer.localAddress, { _tag: "Ipc", path })
          yield* client.write("hi")
          yield* client.endOfOutput
          assert.strictEqual(yield* drain(peer), "hi")
        })
      ))

    it.live("after its scope closes, a socket's reads fail with Closed and nothing stays open", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const scope = yield* Scope.make()
          const client = yield* Scope.provide(Network.connect({ host: d.host, port: tcpPort(server.address) }), scope)
          const peer = yield* takeOne(server.accept)
          yield* Scope.close(scope, Exit.void)
          const error = yield* Effect.flip(client.pull)
          assert.strictEqual(error._tag, "SocketError")
          if (error._tag === "SocketError") assert.strictEqual(error.reason, "Closed")
          assert.strictEqual((yield* Effect.flip(client.write("x"))).reason, "Closed")
          assert.strictEqual(yield* drain(peer), "")
          yield* Scope.close(peer.scope, Exit.void)
          yield* eventually(() => t.open() === 0, "both ends closed")
        })
      )
    })
  })
}
