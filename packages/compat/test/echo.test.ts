/**
 * The echo server and client of Node's `net` documentation, unchanged except
 * for `require('net')`, run over compat on real loopback sockets.
 */
import { assert, describe, it } from "@effect/vitest"
import * as net from "@sluice/compat"

describe("the net documentation's echo example", () => {
  it("round-trips with 'connect', 'data', 'end', 'close' in Node's order", async () => {
    const events: Array<string> = []
    const server = net.createServer((c) => {
      // 'connection' listener.
      events.push("server: client connected")
      c.on("end", () => {
        events.push("server: client disconnected")
      })
      c.write("hello\r\n")
      c.pipe(c)
    })
    server.on("error", (err) => {
      throw err
    })
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        events.push("server bound")
        const address = server.address()
        assert.isTrue(typeof address === "object" && address !== null)
        resolve((address as { port: number }).port)
      })
    )
    const received: Array<string> = []
    await new Promise<void>((resolve) => {
      const client = net.createConnection({ port, host: "127.0.0.1" }, () => {
        // 'connect' listener.
        events.push("client: connected to server!")
        client.write("world!\r\n")
      })
      client.on("data", (data) => {
        events.push("client: data")
        received.push(data.toString())
        if (received.join("") === "hello\r\nworld!\r\n") client.end()
      })
      client.on("end", () => {
        events.push("client: disconnected from server")
      })
      client.on("close", (hadError: boolean) => {
        events.push(`client: close ${hadError}`)
        resolve()
      })
    })
    await new Promise<void>((resolve) => server.close(() => resolve()))
    assert.strictEqual(received.join(""), "hello\r\nworld!\r\n")
    // the data may arrive in one or two chunks; the order of the lifecycle events may not vary
    const lifecycle = events.filter((e) => e !== "client: data")
    assert.deepStrictEqual(lifecycle, [
      "server bound",
      "server: client connected",
      "client: connected to server!",
      "server: client disconnected",
      "client: disconnected from server",
      "client: close false"
    ])
    assert.isTrue(events.indexOf("client: data") > events.indexOf("client: connected to server!"))
    assert.isTrue(events.lastIndexOf("client: data") < events.indexOf("server: client disconnected"))
  })
})
