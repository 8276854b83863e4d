// pg, unmodified and given no stream option: it creates `new (require("net").Socket)()`
// itself. Prints one JSON line with what it saw; PostgreSQL is at 127.0.0.1:$PG_PORT.
"use strict"
const { Client } = require("pg")
const net = require("net")
const builtin = process.getBuiltinModule("node:net")

const main = async () => {
  const client = new Client({ host: "127.0.0.1", port: Number(process.env.PG_PORT), user: "postgres" })
  await client.connect()
  try {
    const stream = client.connection.stream
    const report = { streamIsCompat: stream instanceof net.Socket && !(stream instanceof builtin.Socket) }
    await client.query("BEGIN")
    await client.query("CREATE TEMP TABLE hooked (n int)")
    await client.query("INSERT INTO hooked SELECT generate_series(1, 1000)")
    report.sum = Number((await client.query("SELECT sum(n) AS s FROM hooked")).rows[0].s)
    await client.query("COMMIT")
    report.bytesRead = stream.bytesRead > 0
    process.stdout.write(JSON.stringify(report) + "\n")
  } finally {
    await client.end()
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`)
  process.exitCode = 1
})
