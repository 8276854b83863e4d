/**
 * `ws`, unmodified, over compat sockets: the server upgrades requests of the
 * `node:http` server fed by a compat `net.Server` (`noServer` + `handleUpgrade`),
 * the client dials with compat's `createConnection`.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { createConnection } from "@sluice/compat"
import type { SocketConnectOpts, SocketConstructorOpts } from "@sluice/compat/Socket"
import { randomBytes } from "node:crypto"
import type * as http from "node:http"
import * as realNet from "node:net"
import { type RawData, WebSocket, WebSocketServer } from "ws"
import { isCompatSocket } from "./compatSocket.ts"
import { type CompatHttpServer, type CompatSocket, listenHttp } from "./httpOverCompat.ts"

let server: CompatHttpServer | undefined
let wss: WebSocketServer | undefined

afterEach(async () => {
  for (const client of wss?.clients ?? []) client.terminate()
  await new Promise<void>((resolve) => (wss === undefined ? resolve() : wss.close(() => resolve())))
  wss = undefined
  await server?.close()
  server = undefined
})

/** An echo WebSocket server on the compat-fed http server; records the upgraded sockets. */
const listenEcho = async () => {
  const upgraded: Array<unknown> = []
  const echo = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 })
  echo.on("connection", (ws) => {
    ws.on("message", (data: RawData, isBinary: boolean) => ws.send(data, { binary: isBinary }))
  })
  const httpServer = await listenHttp((_req, res) => {
    res.writeHead(426).end("upgrade required")
  })
  httpServer.http.on("upgrade", (req: http.IncomingMessage, socket, head: Buffer) => {
    upgraded.push(socket)
    echo.handleUpgrade(req, socket, head, (ws) => echo.emit("connection", ws, req))
  })
  server = httpServer
  wss = echo
  return { port: httpServer.port, upgraded }
}

/** Opens a client WebSocket whose connection is a compat socket. */
const open = (port: number) =>
  new Promise<{ ws: WebSocket; socket: CompatSocket }>((resolve, reject) => {
    let socket: CompatSocket | undefined
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, {
      // ws hands http.request's options over (their `path` is the URL path, not a socket path)
      createConnection: (options: unknown) => {
        const { host, port } = options as { host: string; port: number }
        const opts: SocketConnectOpts & SocketConstructorOpts = { host, port }
        socket = createConnection(opts)
        // compat's Socket is typed as node:net's (its typings are assignable to @types/node's)
        return socket as unknown as realNet.Socket
      }
    })
    ws.once("open", () => (socket === undefined ? reject(new Error("no compat socket")) : resolve({ ws, socket })))
    ws.once("error", reject)
  })

const nextMessage = (ws: WebSocket) =>
  new Promise<{ data: Buffer; isBinary: boolean }>((resolve) =>
    ws.once(
      "message",
      (data: RawData, isBinary: boolean) =>
        resolve({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer), isBinary })
    )
  )

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }))
  )

describe("ws over compat sockets", () => {
  it("echoes text and binary messages, ping/pong, and closes with a code on both sides", async () => {
    const { port, upgraded } = await listenEcho()
    const { ws, socket } = await open(port)
    assert.isTrue(isCompatSocket(socket))
    assert.strictEqual(upgraded.length, 1)
    assert.isTrue(isCompatSocket(upgraded[0]))

    ws.send("héllo over compat")
    const text = await nextMessage(ws)
    assert.isFalse(text.isBinary)
    assert.strictEqual(text.data.toString(), "héllo over compat")

    const blob = randomBytes(256 * 1024)
    ws.send(blob)
    const binary = await nextMessage(ws)
    assert.isTrue(binary.isBinary)
    assert.isTrue(binary.data.equals(blob))

    const pong = new Promise<Buffer>((resolve) => ws.once("pong", resolve))
    ws.ping("are you there")
    assert.strictEqual((await pong).toString(), "are you there")

    const serverSide = [...(wss?.clients ?? [])][0]
    assert.isDefined(serverSide)
    const serverClosed = serverSide === undefined ? Promise.reject(new Error("no server client")) : closed(serverSide)
    const clientClosed = closed(ws)
    const socketClosed = new Promise<boolean>((resolve) => socket.once("close", resolve))
    ws.close(4000, "done here")
    assert.deepStrictEqual(await clientClosed, { code: 4000, reason: "done here" })
    assert.deepStrictEqual(await serverClosed, { code: 4000, reason: "done here" })
    assert.isFalse(await socketClosed)
  })

  it("keeps 200 messages in order, on 3 connections at once", async () => {
    const { port } = await listenEcho()
    const clients = await Promise.all([open(port), open(port), open(port)])
    await Promise.all(clients.map(async ({ ws }, c) => {
      const expected = Array.from({ length: 200 }, (_, i) => `client ${c} message ${i}`)
      const received: Array<string> = []
      const all = new Promise<void>((resolve) =>
        ws.on("message", (data: RawData) => {
          received.push(String(data))
          if (received.length === expected.length) resolve()
        })
      )
      for (const message of expected) ws.send(message)
      await all
      assert.deepStrictEqual(received, expected)
      const done = closed(ws)
      ws.close(1000)
      assert.strictEqual((await done).code, 1000)
    }))
  })
})
