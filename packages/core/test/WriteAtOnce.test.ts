/**
 * `Handle.write`'s answer, through the engine, on every driver: a write the
 * platform takes whole at once is no longer queued (`queuedBytes` drops at
 * once, its callback still reports success on a later turn); one the peer's
 * full buffers hold back stays queued until it completes. A write taken at
 * once is the peer's: it arrives before a close, a shutdown or a reset asked
 * right after it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Engine from "@sluice/core/Engine"
import type { DriverCase } from "./drivers.ts"
import { drivers } from "./drivers.ts"
import { closed, dial, listen, Recorder, tcp, to } from "./MemoryHelpers.ts"

/** A dialled handle and its accepted peer on a fresh driver; `release` closes the peer and the listener. */
const connected = async (d: DriverCase) => {
  const driver = d.make()
  const server = await listen(driver, tcp(d.host, 0))
  const handle = await dial(driver, to(d.host, server.port))
  const accepted = await server.next()
  const release = async () => {
    await closed(accepted)
    await server.close()
  }
  return { driver, handle, accepted, release }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))
const bytes = (text: string) => new TextEncoder().encode(text)

for (const d of drivers) {
  describe(`writes taken at once on the ${d.name} driver`, () => {
    it("a small write leaves nothing queued; 8 MiB to a peer that does not read stays queued until read", async () => {
      const { accepted, driver, handle, release } = await connected(d)
      const connection = new Engine.Connection(driver, handle)
      accepted.bind({ onData: () => {}, onEnd: () => {}, onError: () => {} })
      try {
        const results: Array<string> = []
        const sent = connection.write([new Uint8Array(5)], (error) => results.push(`small ${error?.code ?? "ok"}`))
        assert.isTrue(sent, "the platform took 5 bytes at once")
        assert.strictEqual(connection.queuedBytes, 0)
        assert.deepStrictEqual(results, [], "the callback runs on a later turn")
        // the peer does not read: 8 MiB cannot all be taken at once
        const size = 8 << 20
        const sentBig = connection.write([new Uint8Array(size)], (error) => results.push(`big ${error?.code ?? "ok"}`))
        assert.isFalse(sentBig)
        assert.strictEqual(connection.queuedBytes, size, "still queued below the face")
        await turn()
        assert.deepStrictEqual(results, ["small ok"])
        accepted.readStart()
        while (results.length < 2) await turn()
        assert.deepStrictEqual(results, ["small ok", "big ok"])
        assert.strictEqual(connection.queuedBytes, 0)
      } finally {
        connection.close()
        await release()
      }
    })

    it("a write taken at once reaches the peer even when the connection closes right after it", async () => {
      const { accepted, driver, handle, release } = await connected(d)
      const connection = new Engine.Connection(driver, handle)
      const recorder = new Recorder(accepted)
      try {
        const results: Array<string> = []
        assert.isTrue(connection.write([bytes("hello")], (e) => results.push(e?.code ?? "ok")))
        assert.isTrue(connection.write([bytes(" world")], (e) => results.push(e?.code ?? "ok")))
        await new Promise<void>((resolve) => connection.close(resolve))
        await recorder.until((r) => r.events.includes("end"))
        assert.strictEqual(recorder.text, "hello world")
        assert.deepStrictEqual(results, ["ok", "ok"])
      } finally {
        await release()
      }
    })

    for (const end of ["shutdown", "reset"] as const) {
      it(`a write taken at once completes before a ${end} asked in the same turn, and its bytes arrive first`, async () => {
        const { accepted, handle, release } = await connected(d)
        const recorder = new Recorder(accepted)
        try {
          const order: Array<string> = []
          handle.write([bytes("hello")], (e) => order.push(`write ${e?.code ?? "ok"}`))
          if (end === "shutdown") handle.shutdown((e) => order.push(`shutdown ${e?.code ?? "ok"}`))
          else handle.reset(() => order.push("reset"))
          await recorder.until((r) => r.events.includes("end") || r.errors.length > 0)
          while (order.length < 2) await turn()
          assert.deepStrictEqual(order, ["write ok", end === "shutdown" ? "shutdown ok" : "reset"])
          assert.strictEqual(recorder.text, "hello")
          assert.deepStrictEqual(recorder.events.filter((e) => !e.startsWith("data")), [
            end === "shutdown" ? "end" : "error ECONNRESET read"
          ])
        } finally {
          if (end === "shutdown") await closed(handle)
          await release()
        }
      })
    }
  })
}
