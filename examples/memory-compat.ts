/**
 * `node examples/memory-compat.ts`: a legacy program written against Node's
 * `net` module, tested over the memory network through `@sluice/compat`.
 *
 * The program under test (`startServer`, `lookupUser`) is ordinary callback
 * code that takes its `net` module as a parameter — the only change legacy
 * code needs. The test hands it `createNet(network.driver)`: an isolated
 * in-memory network with a host table, where every write is cut into random
 * 1–3 byte pieces, then a network that resets the connection after a few
 * bytes. No real socket is opened; the run is deterministic (seeded) and
 * exits 0 when every check holds.
 */
import { createNet } from "@sluice/compat"
import { MemoryNetwork } from "@sluice/core"
import type * as NodeNet from "node:net"

type Net = typeof NodeNet

// --- the legacy program: a JSON-lines user directory --------------------------

const users: Record<string, { name: string; role: string }> = {
  "1": { name: "Ada", role: "admin" },
  "2": { name: "Grace", role: "engineer" }
}

function startServer(net: Net, port: number, callback: (server: NodeNet.Server) => void) {
  const server = net.createServer((socket) => {
    let pending = ""
    socket.setEncoding("utf8")
    socket.on("error", () => socket.destroy())
    socket.on("data", (text: string) => {
      pending += text
      let newline: number
      while ((newline = pending.indexOf("\n")) >= 0) {
        const request = JSON.parse(pending.slice(0, newline)) as { id: string }
        pending = pending.slice(newline + 1)
        socket.write(JSON.stringify(users[request.id] ?? { error: "not found" }) + "\n")
      }
    })
    socket.on("end", () => socket.end())
  })
  server.listen(port, "0.0.0.0", () => callback(server))
}

function lookupUser(
  net: Net,
  host: string,
  port: number,
  id: string,
  callback: (error: Error | null, user?: unknown) => void
) {
  const socket = net.connect({ host, port })
  let answer = ""
  socket.setEncoding("utf8")
  socket.on("data", (text: string) => (answer += text))
  socket.on("error", (error) => callback(error))
  socket.on("end", () => callback(null, JSON.parse(answer)))
  socket.end(JSON.stringify({ id }) + "\n")
}

// --- the test ----------------------------------------------------------------

const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`FAILED: ${what}`)
  console.log(`  ok  ${what}`)
}

const lookup = (net: Net, host: string, port: number, id: string) =>
  new Promise<{ error: Error | null; user?: unknown }>((resolve) =>
    lookupUser(net, host, port, id, (error, user) => resolve({ error, user }))
  )

const main = async () => {
  console.log("the legacy directory over a memory network that slices every write:")
  const network = MemoryNetwork.make({ seed: 1, hosts: { "users.internal": "10.1.0.7" }, faults: [{ slice: 3 }] })
  const net = createNet(network.driver) as unknown as Net
  const server = await new Promise<NodeNet.Server>((resolve) => startServer(net, 7070, resolve))

  const ada = await lookup(net, "users.internal", 7070, "1")
  check(ada.error === null, "a lookup by host name succeeds")
  check(JSON.stringify(ada.user) === JSON.stringify(users["1"]), "the answer arrives whole through 1–3 byte pieces")
  const nobody = await lookup(net, "users.internal", 7070, "9")
  check(JSON.stringify(nobody.user) === "{\"error\":\"not found\"}", "an unknown id is answered")
  const unknownHost = await lookup(net, "elsewhere.internal", 7070, "1")
  check(
    (unknownHost.error as NodeJS.ErrnoException | null)?.code === "ENOTFOUND",
    "a name outside the host table: ENOTFOUND"
  )
  const closedPort = await lookup(net, "users.internal", 7071, "1")
  check(
    (closedPort.error as NodeJS.ErrnoException | null)?.code === "ECONNREFUSED",
    "a port nobody listens on: ECONNREFUSED"
  )

  console.log("the same program when the network resets the connection after 10 bytes:")
  network.inject({ match: { port: 7070 }, resetAfter: { toClient: 10 } })
  const cut = await lookup(net, "users.internal", 7070, "2")
  const code = (cut.error as NodeJS.ErrnoException | null)?.code
  check(code === "ECONNRESET", `the client sees Node's ECONNRESET (${String(cut.error)})`)

  await new Promise((resolve) => server.close(resolve))
  check(network.snapshot().open === 0, "nothing is left open on the network")
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
