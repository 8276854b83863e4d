// Plain ES module legacy code: import from "net" / "node:net" (default, named,
// namespace, dynamic). Prints one JSON line: which module it got, and an echo
// round trip through it over a unix socket in $SLUICE_TEST_DIR.
import net from "net"
import { createServer, Socket } from "node:net"
import * as namespace from "node:net"
import { join } from "node:path"

const builtin = process.getBuiltinModule("node:net")
const compat = await import("@sluice/compat")
const dynamic = await import("net")

const report = {
  isCompat: net === compat.default,
  namedAreCompat: Socket === compat.Socket && createServer === compat.createServer,
  namespaceDefault: namespace.default === net,
  dynamicDefault: dynamic.default === net,
  isBuiltin: net === builtin || Socket === builtin.Socket,
  echo: null
}

const path = join(process.env.SLUICE_TEST_DIR ?? ".", "echo.sock")
const server = createServer((socket) => socket.pipe(socket))
server.listen(path, () => {
  const client = net.createConnection(path, () => client.end("ping over import \"node:net\""))
  let echo = ""
  client.setEncoding("utf8")
  client.on("data", (chunk) => (echo += chunk))
  client.on("close", () => {
    report.echo = echo
    server.close(() => process.stdout.write(JSON.stringify(report) + "\n"))
  })
})
