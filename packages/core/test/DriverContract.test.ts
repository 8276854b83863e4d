/**
 * The driver contract of `Driver.ts` on every driver: which callbacks run
 * before the triggering call returns (a successful bind on a path, a write
 * refused after RST) and which run on a later turn (connect, a failed bind,
 * a successful write, close, reset, a listener's close); timers that honour
 * any delay.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DriverError, Handle, ListenerHandle } from "@sluice/core/Driver"
import { drivers } from "./drivers.ts"
import { ipcPath } from "./helpers.ts"
import { ipc, listen, Recorder, tcp, to } from "./MemoryHelpers.ts"

/** Runs `call` with a callback and reports whether the callback ran before `call` returned. */
const timing = <A>(call: (callback: (value: A) => void) => void): Promise<{ sync: boolean; value: A }> =>
  new Promise((resolve) => {
    let returned = false
    call((value) => resolve({ sync: !returned, value }))
    returned = true
  })

for (const d of drivers) {
  describe(`the driver contract on the ${d.name} driver`, () => {
    it("a bind on a path reports at once; a failed bind and a listener's close on a later turn", async () => {
      const driver = d.make()
      const path = ipcPath("contract")
      const events = { onConnection: (h: Handle) => h.close(() => {}), onError: () => {} }
      const bound = await timing<ListenerHandle | undefined>((cb) =>
        driver.listen(ipc(path), events, (_e, listener) => cb(listener))
      )
      assert.isTrue(bound.sync, "a successful bind reports synchronously")
      const listener = bound.value
      assert.isDefined(listener)
      if (listener === undefined) return
      const taken = await timing<DriverError | undefined>((cb) =>
        driver.listen(ipc(path), events, (e, l) => {
          l?.close(() => {})
          cb(e)
        })
      )
      assert.isFalse(taken.sync, "a failed bind reports on a later turn")
      assert.strictEqual(taken.value?.code, "EADDRINUSE")
      const closed = await timing<void>((cb) => listener.close(() => cb()))
      assert.isFalse(closed.sync, "a listener's close completes on a later turn")
    })

    it("connect, accept, a write and close complete on a later turn; a write refused after RST at once", async () => {
      const driver = d.make()
      const server = await listen(driver, tcp(d.host, 0))
      const connected = await timing<Handle | undefined>((cb) =>
        driver.connect(to(d.host, server.port), (_e, handle) => cb(handle))
      )
      assert.isFalse(connected.sync, "connect completes on a later turn")
      const client = connected.value
      assert.isDefined(client)
      if (client === undefined) return
      const recorder = new Recorder(client)
      const accepted = await server.next()
      const written = await timing<DriverError | undefined>((cb) => client.write([new Uint8Array([1])], cb))
      assert.isFalse(written.sync, "a successful write completes on a later turn")
      assert.isUndefined(written.value)

      const reset = await timing<void>((cb) => accepted.reset(() => cb()))
      assert.isFalse(reset.sync, "reset completes on a later turn")
      await recorder.until((r) => r.errors.length > 0)
      assert.strictEqual(recorder.errors[0]?.code, "ECONNRESET")
      const refused = await timing<DriverError | undefined>((cb) => client.write([new Uint8Array([2])], cb))
      assert.isTrue(refused.sync, "a write refused after RST is reported at once")
      assert.include(["ECONNRESET", "EPIPE"], refused.value?.code)
      assert.notInclude(recorder.events, "end")

      const closed = await timing<void>((cb) => client.close(() => cb()))
      assert.isFalse(closed.sync, "close completes on a later turn")
      await server.close()
    })

    it("timers: a delay past setTimeout's limit (2^31 - 1 ms) and Infinity do not fire early; cancel works", async () => {
      const driver = d.make()
      const fired: Array<string> = []
      const cancels = [
        driver.timers.schedule(2 ** 31 + 1000, () => fired.push("2^31 + 1000 ms")),
        driver.timers.schedule(30 * 24 * 3600_000, () => fired.push("30 days")),
        driver.timers.schedule(Infinity, () => fired.push("Infinity"))
      ]
      const cancelled = driver.timers.schedule(5, () => fired.push("cancelled"))
      cancelled()
      await new Promise<void>((resolve) => driver.timers.schedule(40, resolve))
      for (const cancel of cancels) cancel()
      assert.deepStrictEqual(fired, [])
    })
  })
}
