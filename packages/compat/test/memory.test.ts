/**
 * compat over the memory network: the differential scenarios that do not need
 * the real network (names, file descriptors) match `node:net`'s traces; a
 * legacy program and Node's own `http` client and server run over
 * `createNet(memoryDriver)` in plain vitest, with faults.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as http from "node:http"
import * as nodeNet from "node:net"
import type { Duplex } from "node:stream"
import { runScenario, show } from "./differential/harness.ts"
import type { NetLike } from "./differential/harness.ts"
import { allScenarios } from "./differential/scenarios/index.ts"

const memoryNet = () => createNet(MemoryNetwork.make().driver) as unknown as NetLike

describe("compat over the memory network matches node:net", () => {
  for (const s of allScenarios) {
    if (s.needs?.some((n) => n === "dns" || n === "fd" || n === "host")) continue
    it(s.name, async () => {
      const expected = await runScenario(s, nodeNet)
      const actual = await runScenario(s, memoryNet())
      assert.deepStrictEqual(actual, expected, `traces differ\nnode:net: ${show(expected)}\nmemory:   ${show(actual)}`)
    })
  }
})

/** A legacy line-protocol key/value server and client, written against `require("net")`. */
const legacyKv = (net: NetLike) => {
  const store = new Map<string, string>()
  const errors: Array<string> = []
  const server = net.createServer((socket) => {
    let buffered = ""
    socket.on("error", (e: NodeJS.ErrnoException) => errors.push(`${e.syscall} ${e.code}`))
    socket.setEncoding("utf8")
    socket.on("data", (text: string) => {
      buffered += text
      let i: number
      while ((i = buffered.indexOf("\n")) >= 0) {
        const [op, key = "", value = ""] = buffered.slice(0, i).split(" ")
        buffered = buffered.slice(i + 1)
        if (op === "SET") {
          store.set(key, value)
          socket.write("OK\n")
        } else if (op === "GET") socket.write(`${store.get(key) ?? "NIL"}\n`)
        else socket.write("ERR\n")
      }
    })
    socket.on("end", () => socket.end())
  })
  const query = (port: number, lines: ReadonlyArray<string>) =>
    new Promise<Array<string>>((resolve, reject) => {
      const client = net.connect(port, "127.0.0.1")
      let received = ""
      client.setEncoding("utf8")
      client.on("data", (text: string) => (received += text))
      client.on("error", reject)
      client.on("end", () => resolve(received.split("\n").filter((l) => l.length > 0)))
      client.write(lines.map((l) => `${l}\n`).join(""))
      client.end()
    })
  return { server, query, errors }
}

const listening = (server: nodeNet.Server, port = 0) =>
  new Promise<number>((resolve) =>
    server.listen(port, "127.0.0.1", () => resolve((server.address() as nodeNet.AddressInfo).port))
  )

describe("legacy code over compat on the memory network", () => {
  it("a line-protocol client and server survive writes sliced into 1..2-byte pieces", async () => {
    const network = MemoryNetwork.make({ seed: 9, faults: [{ slice: 2 }] })
    const { server, query } = legacyKv(createNet(network.driver) as unknown as NetLike)
    const port = await listening(server, 6379)
    assert.strictEqual(port, 6379)
    const answers = await query(port, [
      "SET greeting hello",
      "SET name sluice",
      "GET greeting",
      "GET name",
      "GET nope",
      "BOGUS"
    ])
    assert.deepStrictEqual(answers, ["OK", "OK", "hello", "sluice", "NIL", "ERR"])
    await new Promise((resolve) => server.close(resolve))
    assert.strictEqual(network.snapshot().open, 0)
  })

  it("the network resetting the connection surfaces as Node's ECONNRESET error", async () => {
    const network = MemoryNetwork.make({ faults: [{ resetAfter: { toClient: 5 } }] })
    const { errors, query, server } = legacyKv(createNet(network.driver) as unknown as NetLike)
    const port = await listening(server)
    const error = await query(port, ["SET a 1", "SET b 2", "GET a"]).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.deepInclude(error as NodeJS.ErrnoException, { code: "ECONNRESET", errno: -104, syscall: "read" })
    // the server's socket was reset too: its next write fails
    while (errors.length === 0) await new Promise((resolve) => setImmediate(resolve))
    assert.match(errors[0]!, /^(write EPIPE|read ECONNRESET|write ECONNRESET)$/)
    await new Promise((resolve) => server.close(resolve))
  })

  it("Node's own http client and server run over compat sockets on the memory network", async () => {
    const network = MemoryNetwork.make({ seed: 4, faults: [{ slice: 16 }] })
    const net = createNet(network.driver)
    const app = http.createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (chunk: string) => (body += chunk))
      req.on("end", () => {
        res.setHeader("content-type", "text/plain")
        res.end(`${req.method} ${req.url} ${body.length} bytes: ${body.toUpperCase()}`)
      })
    })
    // the listener is compat's; each accepted socket is handed to Node's http server
    const listener = net.createServer((socket) => app.emit("connection", socket))
    const port = await listening(listener as unknown as nodeNet.Server)
    const request = (method: string, path: string, body: string) =>
      new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
        const req = http.request(
          {
            method,
            path,
            headers: { "content-length": Buffer.byteLength(body) },
            createConnection: () => net.createConnection({ port, host: "127.0.0.1" }) as unknown as Duplex
          },
          (res) => {
            let text = ""
            res.setEncoding("utf8")
            res.on("data", (chunk: string) => (text += chunk))
            res.on("end", () => resolve({ status: res.statusCode, text }))
          }
        )
        req.on("error", reject)
        req.end(body)
      })
    const first = await request("POST", "/echo", "hello over memory")
    assert.deepStrictEqual(first, { status: 200, text: "POST /echo 17 bytes: HELLO OVER MEMORY" })
    const second = await request("GET", "/empty", "")
    assert.deepStrictEqual(second, { status: 200, text: "GET /empty 0 bytes: " })
    app.close()
    await new Promise((resolve) => listener.close(resolve))
    app.closeAllConnections()
  })
})
