/**
 * The memory network's kernel-like semantics, at the driver level: addresses,
 * errors shaped like the node adapter's, FIN vs RST, half-open connections,
 * bounded buffers, backlog, host table, callback timing, snapshots and
 * reproducible traces.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Endpoint } from "@sluice/core/Driver"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import { closed, dial, dialError, ipc, listen, Recorder, settle, tcp, to, write } from "./MemoryHelpers.ts"

describe("MemoryNetwork driver", () => {
  it("listens on an ephemeral port from the Linux range and reports real-looking addresses", async () => {
    const net = MemoryNetwork.make()
    const d = net.driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    assert.isTrue(server.port >= 32768 && server.port <= 60999, `port ${server.port}`)
    assert.deepStrictEqual(server.listener.endpoint(), {
      _tag: "Tcp",
      address: "127.0.0.1",
      port: server.port,
      family: "IPv4"
    })
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const local = client.localEndpoint()
    assert.strictEqual(local?._tag, "Tcp")
    if (local?._tag !== "Tcp") return
    assert.strictEqual(local.address, "127.0.0.1")
    assert.isTrue(local.port >= 32768 && local.port <= 60999)
    assert.notStrictEqual(local.port, server.port)
    assert.deepStrictEqual(client.remoteEndpoint(), server.listener.endpoint())
    assert.deepStrictEqual(accepted.remoteEndpoint(), local)
    assert.deepStrictEqual(accepted.localEndpoint(), server.listener.endpoint())
    await closed(client)
    await closed(accepted)
    await server.close()
    assert.strictEqual(net.snapshot().open, 0)
  })

  it("a connect's local port is reserved while it is in flight and never freed from under another socket", async () => {
    // one ephemeral port: who holds it decides every later connect
    const net = MemoryNetwork.make({ ephemeralPorts: [40000, 40000] })
    const d = net.driver
    const server = await listen(d, tcp("10.0.0.1", 7000))
    const at = (port: number): Endpoint => ({ _tag: "Tcp", address: "10.0.0.1", port, family: "IPv4" })
    const first = await dial(d, to("10.0.0.1", 7000))
    assert.deepStrictEqual(first.localEndpoint(), at(40000))
    // an attempt bound to the port the first connection holds fails (nobody listens there) and leaves it held
    const refused = await dialError(d, { _tag: "Tcp", address: "10.0.0.1", port: 7001, family: 4, localPort: 40000 })
    assert.strictEqual(refused.code, "ECONNREFUSED")
    const exhausted = await dialError(d, to("10.0.0.1", 7000))
    assert.strictEqual(exhausted.code, "EADDRNOTAVAIL")
    await closed(first)
    await closed(await server.next())
    await settle()
    // in flight, an attempt holds its port and reports it; cancelled, it frees it
    const pending = d.connect(to("10.0.0.1", 7000), () => assert.fail("cancelled"))
    assert.deepStrictEqual(pending.local?.(), at(40000))
    pending()
    const second = await dial(d, to("10.0.0.1", 7000))
    assert.deepStrictEqual(second.localEndpoint(), at(40000))
    await closed(second)
    await closed(await server.next())
    await server.close()
    await settle()
    assert.strictEqual(net.snapshot().open, 0)
  })

  it("a listener on every interface is dual-stack: IPv4 peers appear IPv4-mapped, as on Linux", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp(undefined, 0))
    assert.deepStrictEqual(server.listener.endpoint(), {
      _tag: "Tcp",
      address: "::",
      port: server.port,
      family: "IPv6"
    })
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const remote = accepted.remoteEndpoint()
    assert.strictEqual(remote?._tag === "Tcp" && remote.address, "::ffff:127.0.0.1")
    assert.strictEqual(remote?._tag === "Tcp" && remote.family, "IPv6")
    // the client side sees plain IPv4
    assert.deepInclude(client.localEndpoint(), { address: "127.0.0.1", family: "IPv4" })
    const v6 = await dial(d, to("::1", server.port))
    const accepted6 = await server.next()
    assert.deepInclude(accepted6.remoteEndpoint(), { address: "::1", family: "IPv6" })
    // a wildcard listener takes the port for IPv4 too
    const clash = await listen(d, tcp("127.0.0.1", server.port)).then(() => undefined, (e) => e)
    assert.strictEqual(clash?.code, "EADDRINUSE")
    for (const h of [client, accepted, v6, accepted6]) await closed(h)
    await server.close()
  })

  it("errors carry code, errno, syscall, address and port like the node adapter's", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const inUse = await listen(d, tcp("127.0.0.1", server.port)).then(() => undefined, (e) => e)
    assert.deepInclude(inUse, {
      code: "EADDRINUSE",
      errno: -98,
      syscall: "listen",
      address: "127.0.0.1",
      port: server.port
    })
    await server.close()
    const refused = await dialError(d, to("127.0.0.1", server.port))
    assert.deepInclude(refused, {
      code: "ECONNREFUSED",
      errno: -111,
      syscall: "connect",
      address: "127.0.0.1",
      port: server.port
    })
    const missing = await dialError(d, { _tag: "Ipc", path: "/tmp/nobody.sock" })
    assert.deepInclude(missing, { code: "ENOENT", errno: -2, syscall: "connect", address: "/tmp/nobody.sock" })
    assert.isUndefined(missing.port)
    const path = await listen(d, ipc("/tmp/taken.sock"))
    const taken = await listen(d, ipc("/tmp/taken.sock")).then(() => undefined, (e) => e)
    assert.deepInclude(taken, { code: "EADDRINUSE", syscall: "listen", address: "/tmp/taken.sock" })
    await path.close()
    // a closed listener frees its port and path
    const again = await listen(d, tcp("127.0.0.1", server.port))
    const againPath = await listen(d, ipc("/tmp/taken.sock"))
    await again.close()
    await againPath.close()
  })

  it("names resolve through the host table the test controls; unknown names are ENOTFOUND", async () => {
    const net = MemoryNetwork.make({ hosts: { "db.test": ["10.0.0.5", "fd00::5"] } })
    const lookup = (name: string, family: 0 | 4 | 6 = 0) =>
      new Promise<{ error: unknown; addresses: ReadonlyArray<unknown> }>((resolve) => {
        let sync = true
        net.driver.lookup(name, { family, hints: 0, all: true }, (error, addresses) => {
          assert.isFalse(sync, "lookup answered synchronously")
          resolve({ error, addresses })
        })
        sync = false
      })
    assert.deepStrictEqual((await lookup("localhost")).addresses, [
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 }
    ])
    assert.deepStrictEqual((await lookup("DB.test", 6)).addresses, [{ address: "fd00::5", family: 6 }])
    const missing = await lookup("nowhere.test")
    assert.deepInclude(missing.error, {
      code: "ENOTFOUND",
      errno: -3008,
      syscall: "getaddrinfo",
      address: "nowhere.test"
    })
    net.setHost("nowhere.test", "10.9.9.9")
    assert.deepStrictEqual((await lookup("nowhere.test")).addresses, [{ address: "10.9.9.9", family: 4 }])
    net.removeHost("db.test")
    assert.strictEqual((await lookup("db.test")).addresses.length, 0)
  })

  it("connect and write callbacks never run inside the call that triggered them", async () => {
    const d = MemoryNetwork.make().driver
    const order: Array<string> = []
    const server = await listen(d, tcp("127.0.0.1", 0))
    let client: import("@sluice/core/Driver").Handle | undefined
    const connected = new Promise<void>((resolve) => {
      d.connect(to("127.0.0.1", server.port), (_e, h) => {
        order.push("connected")
        client = h
        resolve()
      })
      order.push("connect returned")
    })
    await connected
    const accepted = await server.next()
    const r = new Recorder(accepted)
    const written = new Promise<void>((resolve) => {
      client!.write([new Uint8Array([1, 2, 3])], () => {
        order.push("written")
        resolve()
      })
      order.push("write returned")
    })
    await written
    await r.until((x) => x.received === 3)
    assert.deepStrictEqual(order, ["connect returned", "connected", "write returned", "written"])
    await closed(client!)
    await closed(accepted)
    await server.close()
  })

  it("FIN: the peer reads the end and may keep writing (half-open)", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const atServer = new Recorder(accepted)
    const atClient = new Recorder(client)
    await write(client, "request")
    await new Promise<void>((resolve) => client.shutdown(() => resolve()))
    await atServer.until((r) => r.events.includes("end"))
    assert.strictEqual(atServer.text, "request")
    // half-open: the server still writes, the client still reads
    assert.isUndefined(await write(accepted, "response"))
    await new Promise<void>((resolve) => accepted.shutdown(() => resolve()))
    await atClient.until((r) => r.events.includes("end"))
    assert.strictEqual(atClient.text, "response")
    assert.deepStrictEqual(atClient.errors, [])
    await closed(client)
    await closed(accepted)
    await server.close()
  })

  it("RST: the reading peer gets ECONNRESET on read; a paused peer gets it on its next write", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const reader = await dial(d, to("127.0.0.1", server.port))
    const resetter = await server.next()
    const r = new Recorder(reader)
    await write(resetter, "last words")
    await new Promise<void>((resolve) => resetter.reset(resolve))
    await r.until((x) => x.errors.length > 0)
    assert.strictEqual(r.text, "last words")
    assert.deepInclude(r.errors[0], { code: "ECONNRESET", errno: -104, syscall: "read" })
    assert.notInclude(r.events, "end")
    await closed(reader)

    const paused = await dial(d, to("127.0.0.1", server.port))
    const resetter2 = await server.next()
    const pausedRecorder = new Recorder(paused, false)
    await new Promise<void>((resolve) => resetter2.reset(resolve))
    await settle()
    assert.deepInclude(await write(paused, "x"), { code: "ECONNRESET", syscall: "write" })
    assert.deepInclude(await write(paused, "y"), { code: "EPIPE", syscall: "write" })
    assert.deepStrictEqual(pausedRecorder.events, [])
    await closed(paused)
    await server.close()
  })

  it("EPIPE: writing after the peer closed succeeds once, then fails", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const r = new Recorder(client)
    await closed(accepted)
    await r.until((x) => x.events.includes("end"))
    assert.isUndefined(await write(client, "a"))
    await settle()
    assert.deepInclude(await write(client, "b"), { code: "EPIPE", errno: -32, syscall: "write" })
    await closed(client)
    await server.close()
  })

  it("closing with unread data resets the connection, as a kernel does", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const r = new Recorder(client)
    const unread = new Recorder(accepted, false)
    await write(client, "never read")
    await settle()
    await closed(accepted)
    await r.until((x) => x.errors.length > 0)
    assert.deepInclude(r.errors[0], { code: "ECONNRESET", syscall: "read" })
    assert.strictEqual(unread.received, 0)
    await closed(client)
    await server.close()
  })

  it("readStop stops delivery: the writer's queue fills and its completion waits (backpressure)", async () => {
    const net = MemoryNetwork.make({ bufferSize: 1024 })
    const d = net.driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const r = new Recorder(accepted, false)
    let completed = false
    const payload = new Uint8Array(4096).map((_, i) => i & 0xff)
    const done = write(client, payload).then((e) => {
      completed = true
      return e
    })
    await settle()
    assert.isFalse(completed, "the write completed although the reader stopped")
    assert.strictEqual(r.received, 0)
    const [c] = net.snapshot().connections
    // the buffer holds 1024 bytes (arrived or on their way); the rest waits in the writer's queue
    assert.strictEqual((c?.toServer.unread ?? 0) + (c?.toServer.inFlight ?? 0), 1024)
    assert.strictEqual(c?.toServer.queued, 4096 - 1024)
    assert.strictEqual(client.writeQueueSize, 4096 - 1024)
    accepted.readStart()
    assert.isUndefined(await done)
    await r.until((x) => x.received === 4096)
    accepted.readStop()
    await settle()
    assert.strictEqual(net.snapshot().connections[0]?.toServer.queued, 0)
    await closed(client)
    await closed(accepted)
    await server.close()
  })

  it("backlog: connections beyond it wait for the accept queue (SYN retried), in order", async () => {
    const net = MemoryNetwork.make()
    const d = net.driver
    const server = await listen(d, tcp("127.0.0.1", 0, 1))
    const outcomes: Array<string> = []
    const dials = [0, 1, 2].map((i) =>
      dial(d, to("127.0.0.1", server.port)).then((h) => {
        outcomes.push(`c${i}`)
        return h
      })
    )
    await settle()
    // backlog 1 admits two (Linux admits backlog + 1); the third SYN is dropped and retried after 1 s
    assert.deepStrictEqual(outcomes, ["c0", "c1"])
    assert.strictEqual(net.snapshot().connecting, 1)
    const handles = await Promise.all(dials)
    assert.deepStrictEqual(outcomes, ["c0", "c1", "c2"])
    for (const h of handles) await closed(h)
    for (const h of server.accepted) await closed(h)
    await server.close()
  })

  it("IPC paths: connect, exchange, addresses are the path", async () => {
    const d = MemoryNetwork.make().driver
    const server = await listen(d, ipc("/run/app.sock"))
    assert.deepStrictEqual(server.listener.endpoint(), { _tag: "Ipc", path: "/run/app.sock" })
    const client = await dial(d, { _tag: "Ipc", path: "/run/app.sock" })
    const accepted = await server.next()
    assert.deepStrictEqual(client.remoteEndpoint(), { _tag: "Ipc", path: "/run/app.sock" })
    const r = new Recorder(accepted)
    await write(client, "over a path")
    await r.until((x) => x.text === "over a path")
    await closed(client)
    await r.until((x) => x.events.includes("end"))
    await closed(accepted)
    await server.close()
  })

  it("snapshot lists what is open and reaches zero when everything closed", async () => {
    const net = MemoryNetwork.make()
    const d = net.driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    let s = net.snapshot()
    assert.strictEqual(s.listeners.length, 1)
    assert.strictEqual(s.connections.length, 1)
    assert.strictEqual(s.open, 3)
    assert.deepStrictEqual(s.connections[0]?.client, client.localEndpoint())
    await closed(client)
    s = net.snapshot()
    assert.strictEqual(s.open, 2)
    assert.isFalse(s.connections[0]?.clientOpen)
    await closed(accepted)
    await server.close()
    s = net.snapshot()
    assert.deepStrictEqual([s.open, s.connections.length, s.listeners.length], [0, 0, 0])
  })

  it("reset(): the network resets open connections; both ends read ECONNRESET", async () => {
    const net = MemoryNetwork.make()
    const d = net.driver
    const server = await listen(d, tcp("127.0.0.1", 0))
    const client = await dial(d, to("127.0.0.1", server.port))
    const accepted = await server.next()
    const atClient = new Recorder(client)
    const atServer = new Recorder(accepted)
    await write(client, "before")
    await atServer.until((r) => r.received === 6)
    assert.strictEqual(net.reset((c) => c.server._tag === "Tcp" && c.server.port === server.port), 1)
    await atClient.until((r) => r.errors.length > 0)
    await atServer.until((r) => r.errors.length > 0)
    assert.deepInclude(atClient.errors[0], { code: "ECONNRESET", syscall: "read" })
    assert.deepInclude(atServer.errors[0], { code: "ECONNRESET", syscall: "read" })
    assert.strictEqual(atServer.text, "before")
    assert.deepInclude(await write(client, "after"), { code: "EPIPE", syscall: "write" })
    await closed(client)
    await closed(accepted)
    await server.close()
    assert.strictEqual(net.snapshot().open, 0)
  })

  it("reusePort: two listeners share an address and connections alternate between them", async () => {
    const d = MemoryNetwork.make().driver
    const shared = (port: number) => ({ ...tcp("127.0.0.1", port), reusePort: true })
    const a = await listen(d, shared(0))
    const b = await listen(d, shared(a.port))
    const clash = await listen(d, tcp("127.0.0.1", a.port)).then(() => undefined, (e) => e)
    assert.strictEqual(clash?.code, "EADDRINUSE")
    const clients = []
    for (let i = 0; i < 4; i++) clients.push(await dial(d, to("127.0.0.1", a.port)))
    await settle()
    assert.deepStrictEqual([a.accepted.length, b.accepted.length], [2, 2])
    for (const h of [...clients, ...a.accepted, ...b.accepted]) await closed(h)
    await a.close()
    await b.close()
  })

  it("same seed, same trace; another seed, another trace", async () => {
    const run = async (seed: number) => {
      const net = MemoryNetwork.make({ seed, trace: true, faults: [{ slice: 4 }] })
      const d = net.driver
      const server = await listen(d, tcp("127.0.0.1", 0))
      const client = await dial(d, to("127.0.0.1", server.port))
      const accepted = await server.next()
      const r = new Recorder(accepted)
      await write(client, "the quick brown fox jumps over the lazy dog")
      await r.until((x) => x.received === 43)
      assert.strictEqual(r.text, "the quick brown fox jumps over the lazy dog")
      await closed(client)
      await r.until((x) => x.events.includes("end"))
      await closed(accepted)
      await server.close()
      return net.trace()
    }
    const a = await run(7)
    const b = await run(7)
    const c = await run(8)
    assert.isTrue(a.length > 5)
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual(a, c)
  })
})
