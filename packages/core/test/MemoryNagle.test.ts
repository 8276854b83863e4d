/**
 * Nagle's algorithm and delayed ACKs on the memory network, at the driver
 * level and on virtual time: a small write waits while the previous small
 * segment is unacknowledged and the peer, interactive, delays its ACK by
 * 40 ms; the peer's own data, no-delay, or `nagle: false` let it through.
 * (That this is what Linux does on loopback is checked against node:net by
 * compat's property-memory test.)
 */
import { assert, describe, it } from "@effect/vitest"
import type { Timers } from "@sluice/core/Driver"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import { closed, dial, listen, Recorder, settle, tcp, to, write } from "./MemoryHelpers.ts"

/** Timers that only move when the test says so. */
const manualTimers = () => {
  let now = 0
  let pending: Array<{ at: number; f: () => void }> = []
  const timers: Timers = {
    now: () => now,
    schedule: (ms, f) => {
      const entry = { at: now + ms, f }
      pending.push(entry)
      return () => {
        pending = pending.filter((p) => p !== entry)
      }
    }
  }
  const advance = (ms: number) => {
    now += ms
    const due = pending.filter((p) => p.at <= now)
    pending = pending.filter((p) => p.at > now)
    for (const p of due) p.f()
  }
  return { timers, advance }
}

/** Client writes, the server answers, the client writes 1000 then 14 bytes; returns what the server has. */
const exchange = async (options: MemoryNetwork.Options, noDelay: boolean) => {
  const clock = manualTimers()
  const net = MemoryNetwork.make({ ...options, timers: clock.timers })
  const server = await listen(net.driver, tcp("127.0.0.1", 0))
  const client = await dial(net.driver, to("127.0.0.1", server.port))
  const accepted = await server.next()
  if (noDelay) client.setNoDelay(true)
  const atServer = new Recorder(accepted)
  const atClient = new Recorder(client)
  await write(client, "q".repeat(100))
  await atServer.until((r) => r.received === 100)
  // the server answers within 40 ms of receiving: it is interactive, its ACKs wait
  await write(accepted, "r".repeat(100))
  await atClient.until((r) => r.received === 100)
  await write(client, "x".repeat(1000))
  await atServer.until((r) => r.received === 1100)
  await write(client, "y".repeat(14))
  await settle(10)
  const before = atServer.received
  const held = net.snapshot().connections[0]?.toServer.inFlight
  clock.advance(40)
  await atServer.until((r) => r.received === 1114)
  await closed(client)
  await closed(accepted)
  await server.close()
  return { before, held, text: atServer.text }
}

describe("MemoryNetwork: Nagle's algorithm and delayed ACKs", () => {
  it("a small write waits for the delayed ACK of the previous one (40 ms of the network's time)", async () => {
    const r = await exchange({}, false)
    assert.strictEqual(r.before, 1100)
    assert.strictEqual(r.held, 14)
    assert.strictEqual(r.text, `${"q".repeat(100)}${"x".repeat(1000)}${"y".repeat(14)}`)
  })

  it("no-delay on the sender, or nagle: false on the network, sends it at once", async () => {
    for (const [options, noDelay] of [[{}, true], [{ nagle: false }, false]] as const) {
      const r = await exchange(options, noDelay)
      assert.strictEqual(r.before, 1114)
      assert.strictEqual(r.held, 0)
    }
  })

  it("the peer's own data carries the ACK", async () => {
    const clock = manualTimers()
    const net = MemoryNetwork.make({ timers: clock.timers })
    const server = await listen(net.driver, tcp("127.0.0.1", 0))
    const client = await dial(net.driver, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const atServer = new Recorder(accepted)
    const atClient = new Recorder(client)
    await write(client, "q".repeat(100))
    await atServer.until((r) => r.received === 100)
    await write(accepted, "r".repeat(100))
    await atClient.until((r) => r.received === 100)
    await write(client, "x".repeat(1000))
    await atServer.until((r) => r.received === 1100)
    await write(client, "y".repeat(14))
    await settle(10)
    assert.strictEqual(atServer.received, 1100)
    // no time passes: the server's answer acknowledges the 1000 bytes, the 14 follow
    await write(accepted, "s")
    await atServer.until((r) => r.received === 1114)
    await closed(client)
    await closed(accepted)
    await server.close()
  })
})
