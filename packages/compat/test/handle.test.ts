/**
 * `new net.Socket({ handle })` with a libuv handle: a built-in `node:net`
 * server's `onconnection` hands its accepted `TCP` (or `Pipe`) wrap to
 * compat, on the node driver (raw handles) and on its `net.Socket` fallback
 * driver, through the driver's `adopt`; compat's socket then serves it as one
 * it accepted itself. A value no driver knows is `ERR_INVALID_HANDLE_TYPE`; a
 * driver without `adopt` (the memory network) answers `ENOTSUP`.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import { driver as nodeDriver, netSocketDriver } from "@sluice/node-adapter/NodeDriver"
import * as fs from "node:fs"
import * as realNet from "node:net"
import * as os from "node:os"
import * as path from "node:path"

interface ListeningHandle {
  onconnection: (error: number, clientHandle: unknown) => void
}

/** A built-in server whose accepted handles go to `take` instead of a built-in socket. */
const builtInServer = (take: (clientHandle: unknown) => void) => {
  const server = realNet.createServer()
  const taken = () => {
    const handle = (server as unknown as { _handle: ListeningHandle })._handle
    handle.onconnection = (_error, clientHandle) => take(clientHandle)
  }
  return { server, taken }
}

/** The `code` of what `f` throws. */
const codeOf = (f: () => unknown): unknown => {
  try {
    f()
    return "returned"
  } catch (error) {
    return (error as NodeJS.ErrnoException).code
  }
}

const closed = (x: { on(event: "close", f: () => void): unknown }) =>
  new Promise<void>((resolve) => x.on("close", () => resolve()))

for (const d of [{ name: "node", driver: nodeDriver }, { name: "node (net.Socket)", driver: netSocketDriver }]) {
  describe(`new Socket({ handle }) on the ${d.name} driver`, () => {
    const net = createNet(d.driver)

    it("takes a built-in server's accepted TCP handle: addresses, echo, end, close", async () => {
      const sockets: Array<InstanceType<typeof net.Socket>> = []
      const ports: Array<number | undefined> = []
      const { server, taken } = builtInServer((clientHandle) => {
        const socket = new net.Socket({ handle: clientHandle })
        sockets.push(socket)
        ports.push(socket.remotePort, socket.localPort)
        socket.setEncoding("latin1")
        socket.on("data", (text: string) => socket.write(text.toUpperCase()))
        socket.on("end", () => socket.end())
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      taken()
      const port = (server.address() as realNet.AddressInfo).port
      const client = realNet.connect(port, "127.0.0.1")
      let received = ""
      client.setEncoding("latin1")
      client.on("data", (text: string) => (received += text))
      await new Promise((resolve) => client.on("connect", resolve))
      const clientPort = client.localPort
      client.end("hello")
      await closed(client)
      const socket = sockets[0]!
      if (!socket.closed) await closed(socket)
      server.close()
      assert.strictEqual(received, "HELLO")
      assert.strictEqual(sockets.length, 1)
      assert.instanceOf(socket, net.Socket)
      assert.isFalse((socket as unknown) instanceof realNet.Socket)
      assert.deepStrictEqual(ports, [clientPort, port])
      assert.strictEqual(socket.bytesRead, 5)
      assert.strictEqual(socket.bytesWritten, 5)
    })

    it("takes an accepted Pipe handle", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-handle-"))
      const where = path.join(dir, "s.sock")
      let socket: InstanceType<typeof net.Socket> | undefined
      const { server, taken } = builtInServer((clientHandle) => {
        socket = new net.Socket({ handle: clientHandle })
        socket.end("from compat")
      })
      await new Promise<void>((resolve) => server.listen(where, resolve))
      taken()
      const client = realNet.connect(where)
      let received = ""
      client.on("data", (b: Buffer) => (received += b.toString()))
      await closed(client)
      server.close()
      fs.rmSync(dir, { recursive: true, force: true })
      assert.strictEqual(received, "from compat")
      assert.deepStrictEqual(socket?.address(), {})
    })

    it("a value that is not a libuv stream handle is ERR_INVALID_HANDLE_TYPE", () => {
      for (const handle of [{}, { readStart: () => 0 }, new Date()]) {
        assert.strictEqual(codeOf(() => new net.Socket({ handle })), "ERR_INVALID_HANDLE_TYPE")
      }
    })
  })
}

describe("new Socket({ handle }) on the memory network", () => {
  it("a platform handle is ENOTSUP (the memory driver has no adopt); compat's own handle is taken", async () => {
    const net = createNet(MemoryNetwork.make().driver)
    assert.strictEqual(codeOf(() => new net.Socket({ handle: {} })), "ENOTSUP")
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const handle = (server as unknown as { _handle: ListeningHandle })._handle
    const socket = await new Promise<InstanceType<typeof net.Socket>>((resolve) => {
      handle.onconnection = (_error, clientHandle) => resolve(new net.Socket({ handle: clientHandle }))
      net.connect((server.address() as realNet.AddressInfo).port, "127.0.0.1").end("ping")
    })
    let text = ""
    socket.on("data", (b: Buffer) => (text += b.toString()))
    await new Promise((resolve) => socket.on("end", resolve))
    socket.end()
    await closed(socket)
    server.close()
    assert.strictEqual(text, "ping")
  })
})
