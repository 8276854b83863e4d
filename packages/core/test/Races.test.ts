/**
 * Races at the edges of a connection, on every driver: a shutdown waiting
 * behind a write that never completes still completes, once, when the handle
 * is released (libuv cancels the write on close); `endOfOutput` returns when
 * the idle timeout resets the socket under it; a read whose fiber yields (its
 * operation budget) between its check of the buffered bytes and its wait does
 * not miss bytes or the end that arrived meanwhile. Each failed on the code
 * before its fix.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DriverError } from "@sluice/core/Driver"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scheduler from "effect/Scheduler"
import { drivers } from "./drivers.ts"
import { bytes, connectedPair, run } from "./helpers.ts"
import { concat, dial, listen, tcp, to } from "./MemoryHelpers.ts"

/** Resolves with `true` when `p` settles within `ms`, `false` otherwise. */
const within = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    p.then(() => {
      clearTimeout(t)
      resolve(true)
    })
  })

const pair = connectedPair

for (const d of drivers) {
  describe(`races on the ${d.name} driver`, () => {
    it("a shutdown waiting behind a pending write completes once when the handle is closed", async () => {
      const driver = d.make()
      const server = await listen(driver, tcp(d.host, 0))
      const client = await dial(driver, to(d.host, server.port))
      const accepted = await server.next() // never reads: the write stays pending
      client.bind({ onData: () => {}, onEnd: () => {}, onError: () => {} })
      const big = new Uint8Array(64 * 1024 * 1024)
      let writeCalls = 0
      const written = new Promise<void>((r) =>
        client.write([big], () => {
          writeCalls++
          r()
        })
      )
      let shutdownCalls = 0
      const shut = new Promise<DriverError | undefined>((r) =>
        client.shutdown((e) => {
          shutdownCalls++
          r(e)
        })
      )
      await new Promise<void>((r) => client.close(r))
      assert.isTrue(await within(written, 2000), "the pending write's callback ran")
      assert.isTrue(await within(shut, 2000), "the shutdown's callback ran")
      assert.strictEqual(writeCalls, 1)
      assert.strictEqual(shutdownCalls, 1)
      await new Promise<void>((r) => accepted.close(r))
      await server.close()
    })

    it.live("endOfOutput behind a pending write completes when the idle timeout resets the socket", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client } = yield* pair(d.host, { idleTimeout: "200 millis" })
          // the peer never reads: the write stays queued until the idle timeout resets the socket
          yield* Effect.forkChild(client.write(new Uint8Array(64 * 1024 * 1024)), { startImmediately: true })
          const ending = yield* Effect.forkChild(Effect.exit(client.endOfOutput), { startImmediately: true })
          const ended = yield* Effect.timeoutOption(Fiber.join(ending), "3 seconds")
          assert.isTrue(Option.isSome(ended), "endOfOutput returned once the socket was reset")
        })
      ))

    it.live("readInto keeps byte order when the reader's fiber yields between its reads (op budget)", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          // a fiber yields to the event loop every MaxOpsBeforeYield operations; `work` operations
          // between reads move that yield through every step of readInto, including the one
          // between its check of the buffered bytes and its wait
          for (let work = 0; work < 12; work++) {
            const { client, peer } = yield* pair(d.host)
            const payload = bytes(512 * 1024, work)
            yield* Effect.forkChild(Effect.andThen(peer.write(payload), peer.endOfOutput), { startImmediately: true })
            const readsO = yield* Effect.timeoutOption(
              Effect.provideService(
                Effect.gen(function*() {
                  const buffer = new Uint8Array(65536)
                  const reads: Array<Uint8Array> = []
                  while (true) {
                    const n = yield* Effect.catchIf(client.readInto(buffer), Cause.isDone, () => Effect.succeed(-1))
                    if (n < 0) return reads
                    reads.push(buffer.slice(0, n))
                    for (let i = 0; i < work; i++) yield* Effect.sync(() => {})
                  }
                }),
                Scheduler.MaxOpsBeforeYield,
                12
              ),
              "2 seconds"
            )
            // the bytes and the end arrived: a read waiting after them never returns
            assert.isTrue(Option.isSome(readsO), `every read returned (work ${work})`)
            if (Option.isNone(readsO)) return
            const reads = readsO.value
            const got = concat(reads)
            assert.strictEqual(got.length, payload.length, `length (work ${work})`)
            assert.strictEqual(got.findIndex((b, i) => b !== payload[i]), -1, `first differing byte (work ${work})`)
          }
        })
      ))
  })
}
