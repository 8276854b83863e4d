// ioredis, unmodified and given no connector: it calls require("net").createConnection
// itself. Prints one JSON line with what it saw; redis is at 127.0.0.1:$REDIS_PORT.
"use strict"
const { Redis } = require("ioredis")
const net = require("net")
const builtin = process.getBuiltinModule("node:net")

const main = async () => {
  const options = { host: "127.0.0.1", port: Number(process.env.REDIS_PORT), retryStrategy: () => null }
  const redis = new Redis(options)
  const subscriber = new Redis(options)
  try {
    await Promise.all([redis, subscriber].map((r) => new Promise((resolve) => r.once("ready", resolve))))
    const report = {
      streamIsCompat: redis.stream instanceof net.Socket && !(redis.stream instanceof builtin.Socket),
      netIsBuiltin: net.Socket === builtin.Socket
    }
    await redis.set("hooked", "yes")
    report.get = await redis.get("hooked")
    report.incr = await redis.incrby("hooked:n", 7)
    const messages = []
    const received = new Promise((resolve) =>
      subscriber.on("message", (channel, message) => {
        messages.push(`${channel}:${message}`)
        if (messages.length === 3) resolve()
      })
    )
    await subscriber.subscribe("hook")
    for (const m of ["a", "b", "c"]) await redis.publish("hook", m)
    await received
    report.messages = messages
    process.stdout.write(JSON.stringify(report) + "\n")
  } finally {
    await Promise.allSettled([redis.quit(), subscriber.quit()])
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`)
  process.exitCode = 1
})
