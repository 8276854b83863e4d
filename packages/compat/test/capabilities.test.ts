/**
 * What a driver cannot do is reported as Node reports an unsupported
 * operation (`ENOTSUP`), never a crash: checked over the node driver with
 * every optional capability switched off.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import type { Driver } from "@sluice/core/Driver"
import { driver as nodeDriver } from "@sluice/node-adapter/NodeDriver"
import * as os from "node:os"
import * as path from "node:path"

const limited: Driver = {
  ...nodeDriver,
  name: "limited",
  capabilities: { ipc: false, fd: false, reusePort: false, ipv6: true }
}
const net = createNet(limited)

const errorOf = (emitter: NodeJS.EventEmitter): Promise<NodeJS.ErrnoException> =>
  new Promise((resolve) => emitter.once("error", resolve))

describe("a driver without ipc, fd and reusePort", () => {
  it("listen(path) emits ENOTSUP and the server is not listening", async () => {
    const server = net.createServer()
    server.listen(path.join(os.tmpdir(), "sluice-never.sock"))
    const error = await errorOf(server)
    assert.strictEqual(error.code, "ENOTSUP")
    assert.strictEqual(error.syscall, "listen")
    assert.isFalse(server.listening)
  })

  it("connect(path) emits ENOTSUP, then 'close' with hadError", async () => {
    const socket = net.connect(path.join(os.tmpdir(), "sluice-never.sock"))
    const error = await errorOf(socket)
    assert.strictEqual(error.code, "ENOTSUP")
    const [hadError] = await new Promise<Array<unknown>>((resolve) => socket.once("close", (...a) => resolve(a)))
    assert.strictEqual(hadError, true)
  })

  it("listen({ fd }) and listen({ reusePort }) emit ENOTSUP", async () => {
    const a = net.createServer()
    a.listen({ fd: 3 })
    assert.strictEqual((await errorOf(a)).code, "ENOTSUP")
    const b = net.createServer()
    b.listen({ port: 0, host: "127.0.0.1", reusePort: true })
    assert.strictEqual((await errorOf(b)).code, "ENOTSUP")
  })

  it("new Socket({ fd }) throws ENOTSUP; TCP still works", async () => {
    assert.throws(() => new net.Socket({ fd: 3 }), /ENOTSUP/)
    const server = net.createServer((s) => s.end("still fine"))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const socket = net.connect((server.address() as { port: number }).port, "127.0.0.1")
    let text = ""
    socket.on("data", (d: Buffer) => (text += d.toString()))
    await new Promise((resolve) => socket.on("close", resolve))
    await new Promise((resolve) => server.close(resolve))
    assert.strictEqual(text, "still fine")
  })
})
