// Plain CommonJS legacy code: require("net") / require("node:net"), nothing else.
// Prints one JSON line: which module it got, and an echo round trip through it.
"use strict"
const net = require("net")
const netPrefixed = require("node:net")
const builtin = process.getBuiltinModule("node:net")

const report = {
  sameModule: net === netPrefixed,
  isBuiltin: net === builtin || net.Socket === builtin.Socket,
  isCompat: false,
  echo: null,
  socketIsCompat: null
}

const finish = () => process.stdout.write(JSON.stringify(report) + "\n")

import("@sluice/compat").then((compat) => {
  report.isCompat = net === compat.default && net.Socket === compat.Socket
  const server = net.createServer((socket) => socket.pipe(socket))
  server.listen(0, "127.0.0.1", () => {
    const client = net.connect(server.address().port, "127.0.0.1", () => client.end("ping over require(\"net\")"))
    report.socketIsCompat = client instanceof compat.Socket && !(client instanceof builtin.Socket)
    let echo = ""
    client.setEncoding("utf8")
    client.on("data", (chunk) => (echo += chunk))
    client.on("close", () => {
      report.echo = echo
      server.close(finish)
    })
  })
})
