/**
 * Scenarios: descriptors — `new net.Socket({ fd })` and `server.listen({ fd })`.
 *
 * A descriptor must have one owner. The scenario makes the socket with
 * `node:net` (which exposes `_handle.fd`), hands a duplicate to a child
 * process as its fd 3 (`fixtures/fd-child.ts`), and closes its own copy at
 * once: the child adopts it with the module under test and reports what it
 * sees; the parent records the other end. Validation errors need no child.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as NodeNet from "node:net"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { once, scenario } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "fd-child.ts")

const fdOf = (x: NodeNet.Socket | NodeNet.Server): number => (x as unknown as { _handle: { fd: number } })._handle.fd

/**
 * Runs the child on a duplicate of `fd`; its lines go to the `child` trace.
 * `onLine` sees each entry as it arrives; resolves with the exit code.
 */
const child = (
  net: NetLike,
  rec: Recorder,
  mode: string,
  fd: number,
  onLine: (entry: Array<unknown>) => void = () => {}
): { readonly exited: Promise<number | null> } => {
  const which = net.Socket === NodeNet.Socket ? "node" : "compat"
  const proc = spawn(process.execPath, [fixture, which, mode], { stdio: ["ignore", "pipe", "inherit", fd] })
  const output = proc.stdout
  if (output === null) throw new Error("the child has no stdout")
  const lines = createInterface({ input: output })
  lines.on("line", (line) => {
    const entry = JSON.parse(line) as Array<unknown>
    rec.log("child", String(entry[0]), ...entry.slice(1))
    onLine(entry)
  })
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)))
  return { exited }
}

const peerEvents = ["data", "end", "error", "close"] as const

/** A connected pair over node:net (TCP, or a unix socket at `path`): `[client, server side]`. */
const pair = async (
  rec: Recorder,
  path?: string
): Promise<[NodeNet.Socket, NodeNet.Socket, NodeNet.Server]> => {
  const server = rec.track(NodeNet.createServer({ allowHalfOpen: true, pauseOnConnect: true }))
  if (path === undefined) server.listen(0, "127.0.0.1")
  else server.listen(path)
  await once(server, "listening")
  const accepted = once(server, "connection")
  const client = path === undefined
    ? NodeNet.connect({ port: (server.address() as NodeNet.AddressInfo).port, host: "127.0.0.1" })
    : NodeNet.connect({ path })
  client.pause()
  await once(client, "connect")
  const [peer] = (await accepted) as [NodeNet.Socket]
  return [client, peer, server]
}

const adoptConnected = async (net: NetLike, rec: Recorder, path?: string) => {
  const [client, peer, server] = await pair(rec, path)
  rec.watch("peer", peer, peerEvents)
  peer.on("data", () => peer.write("bye"))
  peer.on("end", () => peer.end())
  peer.resume()
  const run = child(net, rec, "socket", fdOf(client))
  client.destroy() // the child holds the only other copy now
  rec.log("child", "exit code", await run.exited)
  if (!peer.closed) await once(peer, "close")
  server.close()
}

export const fdScenarios: ReadonlyArray<Scenario> = [
  scenario(
    "new Socket({ fd }) adopts a connected TCP socket: props, write, read, end, close",
    (net, rec) => adoptConnected(net, rec),
    ["fd"]
  ),
  scenario(
    "new Socket({ fd }) adopts a connected unix socket",
    (net, rec) => adoptConnected(net, rec, rec.path("pair.sock")),
    ["fd", "ipc"]
  ),
  scenario("server.listen({ fd }) on a listening unix socket: address()", async (net, rec) => {
    // the parent's copy stays open until the child is done (closing it would unlink the path); nobody connects
    const origin = NodeNet.createServer()
    origin.listen(rec.path("listen.sock"))
    await once(origin, "listening")
    const run = child(net, rec, "listen-address", fdOf(origin))
    rec.log("child", "exit code", await run.exited)
    origin.close()
  }, ["fd", "ipc"]),
  scenario("new Socket({ fd, writable: false }): a read-only adopted socket", async (net, rec) => {
    const [client, peer, server] = await pair(rec)
    rec.watch("peer", peer, peerEvents)
    const run = child(net, rec, "readonly", fdOf(client), (entry) => {
      if (entry[0] === "props adopted") peer.end("to the child")
    })
    client.destroy()
    rec.log("child", "exit code", await run.exited)
    peer.destroy()
    server.close()
  }, ["fd"]),
  scenario("server.listen({ fd }) on a listening socket", async (net, rec) => {
    const origin = NodeNet.createServer()
    origin.listen(0, "127.0.0.1")
    await once(origin, "listening")
    const port = (origin.address() as NodeNet.AddressInfo).port
    let connected = false
    const run = child(net, rec, "listen", fdOf(origin), (entry) => {
      if (entry[0] !== "address()" || connected) return
      connected = true
      const c = rec.watch("client", NodeNet.connect(port, "127.0.0.1"), peerEvents)
      c.on("end", () => c.end())
    })
    origin.close() // only the child's copy listens now
    rec.log("child", "exit code", await run.exited)
  }, ["fd"]),
  scenario("new Socket({ fd }) validates: not a socket, not open, out of range, not a number", (net, rec) => {
    const file = rec.path("not-a-socket")
    fs.writeFileSync(file, "x")
    const fd = fs.openSync(file, "r")
    try {
      rec.attempt("socket", "a file", () => new net.Socket({ fd }))
    } finally {
      fs.closeSync(fd)
    }
    rec.attempt("socket", "not open", () => new net.Socket({ fd: 2_000_000 }))
    rec.attempt("socket", "negative", () => new net.Socket({ fd: -1 }))
    rec.attempt("socket", "a string", () => new net.Socket({ fd: "3" as unknown as number }))
  }, ["fd"])
]
