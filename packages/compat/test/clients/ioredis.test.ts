/**
 * `ioredis`, unmodified, against a real redis-server, over compat sockets: its
 * `Connector` option takes a class whose `connect()` returns the stream, here a
 * compat `net.createConnection`. (The same client through the register hook, with
 * no option at all, is in `../register.test.ts`.)
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createConnection, Socket } from "@sluice/compat"
import { AbstractConnector, Redis, type RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import * as realNet from "node:net"
import { isCompatSocket } from "./compatSocket.ts"
import { freePort, type RunningServer, startRedis } from "./servers.ts"

let server: RunningServer

beforeAll(async () => {
  server = await startRedis()
}, 60_000)

afterAll(async () => {
  await server?.stop()
}, 30_000)

type CompatSocket = InstanceType<typeof Socket>

/**
 * An ioredis connector class that dials with compat's `createConnection` and
 * records every socket it opens in `sockets`.
 */
const compatConnector = (sockets: Array<CompatSocket>) =>
  class CompatConnector extends AbstractConnector {
    readonly target: { readonly host: string; readonly port: number }
    constructor(options: unknown) {
      const { host, port, disconnectTimeout } = options as { host: string; port: number; disconnectTimeout: number }
      super(disconnectTimeout)
      this.target = { host, port }
    }
    connect(): Promise<realNet.Socket> {
      this.connecting = true
      return new Promise((resolve) => {
        const socket = createConnection(this.target)
        sockets.push(socket)
        socket.once("error", (error) => {
          this.firstError = error
        })
        // compat's Socket is typed as node:net's (its typings are assignable to @types/node's)
        this.stream = socket as unknown as realNet.Socket
        resolve(this.stream)
      })
    }
  }

const options = (sockets: Array<CompatSocket>): Omit<RedisOptions, "replyMapping"> => ({
  host: server.host,
  port: server.port,
  Connector: compatConnector(sockets),
  // bounded: a broken transport fails the test instead of retrying for ever
  retryStrategy: (times) => (times > 5 ? null : 20),
  maxRetriesPerRequest: 2
})

/**
 * Runs `f` with a ready client whose connections are all compat sockets (listed in
 * the second argument), then quits and checks that every one of them closed.
 */
const withRedis = async <A>(f: (redis: Redis, sockets: ReadonlyArray<CompatSocket>) => Promise<A>): Promise<A> => {
  const sockets: Array<CompatSocket> = []
  const redis = new Redis(options(sockets))
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", resolve)
      redis.once("end", () => reject(new Error("ioredis ended before ready")))
    })
    const socket = sockets[0]
    assert.strictEqual(sockets.length, 1)
    assert.isTrue(isCompatSocket(socket))
    assert.strictEqual(redis.stream, socket as unknown)
    return await f(redis, sockets)
  } finally {
    const open = sockets.filter((s) => !s.destroyed)
    const closed = Promise.all(open.map((s) => new Promise((resolve) => s.once("close", resolve))))
    if (redis.status === "ready") await redis.quit()
    else redis.disconnect()
    await closed
    for (const socket of sockets) assert.isTrue(socket.destroyed)
  }
}

describe("ioredis over compat sockets (Connector option)", () => {
  it("runs commands: strings, counters, hashes, lists, binary and 1 MiB values", async () => {
    await withRedis(async (redis) => {
      assert.strictEqual(await redis.ping(), "PONG")
      assert.strictEqual(await redis.set("greeting", "héllo, sluice"), "OK")
      assert.strictEqual(await redis.get("greeting"), "héllo, sluice")
      assert.strictEqual(await redis.incrby("counter", 40), 40)
      assert.strictEqual(await redis.incr("counter"), 41)
      await redis.hset("user:1", { name: "ada", lang: "ts" })
      assert.deepStrictEqual(await redis.hgetall("user:1"), { name: "ada", lang: "ts" })
      await redis.rpush("queue", "a", "b", "c")
      assert.deepStrictEqual(await redis.lrange("queue", 0, -1), ["a", "b", "c"])

      const binary = randomBytes(1024 * 1024) // 1 MiB, every byte value
      await redis.set("blob", binary)
      const back = await redis.getBuffer("blob")
      assert.isTrue(back !== null && binary.equals(back))
      assert.strictEqual(await redis.strlen("blob"), binary.length)
    })
  })

  it("pipelines and MULTI/EXEC transactions", async () => {
    await withRedis(async (redis) => {
      const pipeline = redis.pipeline()
      for (let i = 0; i < 500; i++) pipeline.set(`k:${i}`, String(i))
      pipeline.dbsize()
      const results = await pipeline.exec()
      assert.strictEqual(results?.length, 501)
      assert.isTrue(results?.every(([error]) => error === null))
      assert.isTrue(Number(results?.[500]?.[1]) >= 500)

      const exec = await redis.multi().set("tx", "1").incr("tx").get("tx").exec()
      assert.deepStrictEqual(exec, [[null, "OK"], [null, 2], [null, "2"]])

      const keys = await redis.mget(...Array.from({ length: 500 }, (_, i) => `k:${i}`))
      assert.deepStrictEqual(keys, Array.from({ length: 500 }, (_, i) => String(i)))
    })
  })

  it("publishes and subscribes (channels and patterns), in order", async () => {
    await withRedis((subscriber) =>
      withRedis(async (publisher) => {
        const count = 100
        const received: Array<string> = []
        const patterned: Array<[string, string]> = []
        const all = new Promise<void>((resolve) => {
          subscriber.on("message", (channel: string, message: string) => {
            assert.strictEqual(channel, "news")
            received.push(message)
            if (received.length === count && patterned.length === 1) resolve()
          })
          subscriber.on("pmessage", (_pattern: string, channel: string, message: string) => {
            patterned.push([channel, message])
            if (received.length === count && patterned.length === 1) resolve()
          })
        })
        assert.strictEqual(await subscriber.subscribe("news"), 1)
        assert.strictEqual(await subscriber.psubscribe("alerts:*"), 2)
        for (let i = 0; i < count; i++) await publisher.publish("news", `message ${i}`)
        assert.strictEqual(await publisher.publish("alerts:disk", "full"), 1)
        await all
        assert.deepStrictEqual(received, Array.from({ length: count }, (_, i) => `message ${i}`))
        assert.deepStrictEqual(patterned, [["alerts:disk", "full"]])
        await subscriber.unsubscribe("news")
        await subscriber.punsubscribe("alerts:*")
      })
    )
  })

  it("reports a refused connection with Node's error shape", async () => {
    const sockets: Array<CompatSocket> = []
    const port = await freePort() // nobody listens there now
    const redis = new Redis({
      ...options(sockets),
      port,
      retryStrategy: () => null,
      lazyConnect: true,
      enableOfflineQueue: false
    })
    const errors: Array<NodeJS.ErrnoException> = []
    redis.on("error", (error: NodeJS.ErrnoException) => errors.push(error))
    const failed = await redis.connect().then(() => undefined, (e: unknown) => e)
    assert.instanceOf(failed, Error)
    assert.isTrue(isCompatSocket(sockets[0]))
    const error = errors[0]
    assert.strictEqual(error?.code, "ECONNREFUSED")
    assert.strictEqual(error?.syscall, "connect")
    assert.strictEqual(error?.message, `connect ECONNREFUSED 127.0.0.1:${port}`)
    assert.strictEqual(redis.status, "end")
    assert.isTrue(sockets[0]?.destroyed)
  })

  it("reconnects through the connector when the server kills the connection", async () => {
    await withRedis(async (redis, sockets) => {
      const first = sockets[0]
      const id = await redis.client("ID")
      const reconnected = new Promise<void>((resolve) => redis.once("ready", resolve))
      const firstClosed = new Promise<void>((resolve) => first?.once("close", () => resolve()))
      await withRedis(async (admin) => {
        assert.strictEqual(await admin.client("KILL", "ID", String(id)), 1)
      })
      await firstClosed
      await reconnected
      assert.strictEqual(sockets.length, 2)
      assert.strictEqual(redis.stream, sockets[1] as unknown)
      assert.notStrictEqual(await redis.client("ID"), id)
      assert.strictEqual(await redis.echo("still here"), "still here")
    })
  })
})
