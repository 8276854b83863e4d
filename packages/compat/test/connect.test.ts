/**
 * Connect-time behaviour that loopback cannot produce on `node:net` (an
 * attempt that never completes), checked on compat over a wrapped node
 * driver: the wrapper holds attempts to one address forever, the rest go to
 * real loopback sockets.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import type { Driver } from "@sluice/core/Driver"
import { driver as nodeDriver } from "@sluice/node-adapter/NodeDriver"
import type { AddressInfo } from "node:net"

/** A driver whose connects to `stuck` never complete (and records their cancellation). */
const stuckDriver = (stuck: string) => {
  const cancelled: Array<string> = []
  const driver: Driver = {
    ...nodeDriver,
    name: "node (with a stuck address)",
    connect: (target, callback) => {
      if (target._tag === "Tcp" && target.address === stuck) {
        return () => cancelled.push(`${target.address}:${target.port}`)
      }
      return nodeDriver.connect(target, callback)
    }
  }
  return { driver, cancelled }
}

describe("connect attempts (happy eyeballs) over a driver", () => {
  it("an attempt that hangs times out with 'connectionAttemptTimeout', the next address connects", async () => {
    const { driver, cancelled } = stuckDriver("192.0.2.1")
    const net = createNet(driver)
    const server = net.createServer((s) => s.end("hi"))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as AddressInfo).port
    const events: Array<string> = []
    const socket = net.connect({
      port,
      host: "two.example",
      autoSelectFamilyAttemptTimeout: 10,
      lookup: (_host, _options, cb) =>
        process.nextTick(() =>
          (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
            { address: "192.0.2.1", family: 4 },
            { address: "127.0.0.1", family: 4 }
          ])
        )
    })
    for (const e of ["lookup", "connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout", "connect"]) {
      socket.on(
        e,
        (...args: Array<unknown>) => events.push(`${e} ${args.filter((a) => !(a instanceof Error)).join(" ")}`)
      )
    }
    let text = ""
    socket.on("data", (d: Buffer) => (text += d.toString()))
    await new Promise((resolve) => socket.on("close", resolve))
    await new Promise((resolve) => server.close(resolve))
    assert.deepStrictEqual(events, [
      "lookup  192.0.2.1 4 two.example",
      "lookup  127.0.0.1 4 two.example",
      `connectionAttempt 192.0.2.1 ${port} 4`,
      `connectionAttemptTimeout 192.0.2.1 ${port} 4`,
      `connectionAttempt 127.0.0.1 ${port} 4`,
      "connect "
    ])
    assert.deepStrictEqual(socket.autoSelectFamilyAttemptedAddresses, [`192.0.2.1:${port}`, `127.0.0.1:${port}`])
    assert.deepStrictEqual(cancelled, [`192.0.2.1:${port}`])
    assert.strictEqual(text, "hi")
  })

  it("destroying while an attempt hangs cancels it and closes with no error", async () => {
    const { driver, cancelled } = stuckDriver("192.0.2.1")
    const net = createNet(driver)
    const socket = net.connect({ port: 80, host: "192.0.2.1" })
    await new Promise((resolve) => socket.once("connectionAttempt", resolve))
    socket.destroy()
    const [hadError] = await new Promise<Array<unknown>>((resolve) => socket.on("close", (...a) => resolve(a)))
    assert.strictEqual(hadError, false)
    assert.deepStrictEqual(cancelled, ["192.0.2.1:80"])
  })
})
