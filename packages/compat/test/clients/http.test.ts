/**
 * Node's own `http` server and client over compat sockets: the server gets its
 * connections from a compat `net.Server` (`server.emit("connection", socket)`),
 * the client from an agent whose `createConnection` is compat's.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Socket } from "@sluice/compat"
import { createHash, randomBytes } from "node:crypto"
import * as http from "node:http"
import { isCompatSocket } from "./compatSocket.ts"
import { compatAgent, type CompatHttpServer, listenHttp } from "./httpOverCompat.ts"

interface Response {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  readonly socket: unknown
}

const request = (options: http.RequestOptions, body?: Buffer): Promise<Response> =>
  new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.once("error", reject)
      res.once("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket: req.socket }))
    })
    req.once("error", reject)
    req.end(body)
  })

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex")

/** Echoes a POST body back with its digest; answers GET with the request line. */
const handler: http.RequestListener = (req, res) => {
  if (req.method === "POST") {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const body = Buffer.concat(chunks)
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "x-sha256": sha256(body),
        "x-compat-socket": String(req.socket instanceof Socket)
      })
      // written in 64 KiB slices: the response streams through the compat socket's backpressure
      let offset = 0
      const writeMore = () => {
        while (offset < body.length) {
          const slice = body.subarray(offset, offset + 65_536)
          offset += slice.length
          if (!res.write(slice)) return void res.once("drain", writeMore)
        }
        res.end()
      }
      writeMore()
    })
    return
  }
  res.end(`${req.method} ${req.url} over ${req.socket instanceof Socket ? "compat" : "node:net"}`)
}

let server: CompatHttpServer | undefined
let agent: http.Agent | undefined

afterEach(async () => {
  agent?.destroy()
  agent = undefined
  await server?.close()
  server = undefined
})

describe("node:http over compat sockets", () => {
  it("answers GET requests, reusing one keep-alive connection", async () => {
    server = await listenHttp(handler)
    const client = compatAgent({ keepAlive: true, maxSockets: 1 })
    agent = client.agent
    for (let i = 0; i < 5; i++) {
      const res = await request({ host: "127.0.0.1", port: server.port, path: `/hello/${i}`, agent })
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.body.toString(), `GET /hello/${i} over compat`)
      assert.isTrue(isCompatSocket(res.socket))
    }
    assert.strictEqual(client.created.length, 1)
    assert.strictEqual(server.accepted.length, 1)
    assert.strictEqual(server.accepted[0]?.remotePort, client.created[0]?.localPort)
  })

  it("echoes a 1 MiB POST back, byte for byte", async () => {
    server = await listenHttp(handler)
    const client = compatAgent()
    agent = client.agent
    const body = randomBytes(1024 * 1024)
    const res = await request(
      {
        host: "127.0.0.1",
        port: server.port,
        method: "POST",
        path: "/echo",
        agent,
        headers: { "content-type": "application/octet-stream", "content-length": body.length }
      },
      body
    )
    assert.strictEqual(res.status, 200)
    assert.strictEqual(res.headers["x-compat-socket"], "true")
    assert.strictEqual(res.headers["x-sha256"], sha256(body))
    assert.strictEqual(res.body.length, body.length)
    assert.isTrue(res.body.equals(body))
    assert.strictEqual(client.created.length, 1)
    assert.isTrue((client.created[0]?.bytesWritten ?? 0) > body.length)
    assert.isTrue((client.created[0]?.bytesRead ?? 0) > body.length)
  })

  it("streams a chunked POST and serves concurrent requests on several connections", async () => {
    server = await listenHttp(handler)
    const client = compatAgent({ keepAlive: true, maxSockets: 4 })
    agent = client.agent
    const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(16_384 * (i + 1)))
    const responses = await Promise.all(bodies.map((body) =>
      new Promise<Response>((resolve, reject) => {
        // no content-length: chunked transfer encoding
        const req = http.request(
          { host: "127.0.0.1", port: server?.port, method: "POST", path: "/echo", agent },
          (res) => {
            const chunks: Array<Buffer> = []
            res.on("data", (chunk: Buffer) => chunks.push(chunk))
            res.once("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks),
                socket: req.socket
              }))
          }
        )
        req.once("error", reject)
        for (let offset = 0; offset < body.length; offset += 10_000) req.write(body.subarray(offset, offset + 10_000))
        req.end()
      })
    ))
    for (const [i, res] of responses.entries()) {
      assert.strictEqual(res.status, 200)
      assert.isTrue(res.body.equals(bodies[i] ?? Buffer.alloc(0)), `body ${i}`)
    }
    assert.isTrue(client.created.length >= 2 && client.created.length <= 4, `${client.created.length} connections`)
    assert.strictEqual(server.accepted.length, client.created.length)
  })
})
