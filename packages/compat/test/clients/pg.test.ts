/**
 * `pg` (node-postgres), unmodified, against a real PostgreSQL server, over compat
 * sockets: its `stream` option returns a compat `net.Socket`, on which pg calls
 * `connect(port, host)` (TCP) or `connect(path)` (unix socket) itself.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Socket } from "@sluice/compat"
import { createHash } from "node:crypto"
import { Client, type ClientConfig, type Notification, Pool } from "pg"
import { isCompatSocket } from "./compatSocket.ts"
import { freePort, type RunningPostgres, startPostgres } from "./servers.ts"

let server: RunningPostgres

beforeAll(async () => {
  server = await startPostgres()
}, 60_000)

afterAll(async () => {
  await server?.stop()
}, 30_000)

/** Every compat socket handed to pg, to check that pg really used them and that they were closed. */
const sockets: Array<InstanceType<typeof Socket>> = []
const compatStream = () => {
  const socket = new Socket()
  sockets.push(socket)
  return socket
}

const tcpConfig = (): ClientConfig => ({
  host: server.host,
  port: server.port,
  user: server.user,
  database: server.database,
  stream: compatStream
})

const withClient = async <A>(config: ClientConfig, f: (client: Client) => Promise<A>): Promise<A> => {
  const before = sockets.length
  const client = new Client(config)
  await client.connect()
  const socket = sockets[before]
  try {
    // pg talks through the compat socket we gave it, not through a node:net socket of its own
    assert.strictEqual(sockets.length, before + 1)
    assert.isTrue(isCompatSocket(socket))
    return await f(client)
  } finally {
    const closed = new Promise<boolean>((resolve) => socket?.once("close", resolve))
    await client.end()
    const hadError = await closed
    assert.isFalse(hadError)
    assert.isTrue(socket?.destroyed)
  }
}

describe("pg over compat sockets", () => {
  it("connects over TCP and runs parameterised queries", async () => {
    await withClient(tcpConfig(), async (client) => {
      const socket = sockets[sockets.length - 1]
      assert.strictEqual(socket?.remoteAddress, "127.0.0.1")
      assert.strictEqual(socket?.remotePort, server.port)

      const sum = await client.query<{ sum: number }>("SELECT $1::int + $2::int AS sum", [40, 2])
      assert.strictEqual(sum.rows[0]?.sum, 42)

      const text = "héllo, 世界 — sluice"
      const echo = await client.query<{ t: string; n: number }>("SELECT $1::text AS t, length($1::text) AS n", [text])
      assert.deepStrictEqual(echo.rows[0], { t: text, n: [...text].length })

      const version = await client.query<{ server_version_num: string }>("SHOW server_version_num")
      assert.isTrue(Number(version.rows[0]?.server_version_num) >= 100_000)
      assert.isTrue((socket?.bytesRead ?? 0) > 0 && (socket?.bytesWritten ?? 0) > 0)
    })
  })

  it("reports server errors and keeps the connection usable", async () => {
    await withClient(tcpConfig(), async (client) => {
      const error = await client.query("SELEC 1").then(() => undefined, (e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.strictEqual((error as { code?: string }).code, "42601") // syntax_error
      const after = await client.query<{ one: number }>("SELECT 1 AS one")
      assert.strictEqual(after.rows[0]?.one, 1)
    })
  })

  it("runs transactions: rollback discards, commit keeps, a failed statement aborts the transaction", async () => {
    await withClient(tcpConfig(), async (client) => {
      await client.query("CREATE TEMP TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
      const count = async () =>
        Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM accounts")).rows[0]?.n)

      await client.query("BEGIN")
      await client.query("INSERT INTO accounts VALUES (1, 100), (2, 50)")
      assert.strictEqual(await count(), 2)
      await client.query("ROLLBACK")
      assert.strictEqual(await count(), 0)

      await client.query("BEGIN")
      await client.query("INSERT INTO accounts VALUES (1, 100), (2, 50)")
      await client.query("UPDATE accounts SET balance = balance - 30 WHERE id = 1")
      await client.query("UPDATE accounts SET balance = balance + 30 WHERE id = 2")
      await client.query("COMMIT")
      const balances = await client.query<{ id: number; balance: number }>(
        "SELECT id, balance FROM accounts ORDER BY id"
      )
      assert.deepStrictEqual(balances.rows, [{ id: 1, balance: 70 }, { id: 2, balance: 80 }])

      await client.query("BEGIN")
      const duplicate = await client.query("INSERT INTO accounts VALUES (1, 0)").then(
        () => undefined,
        (e: unknown) => e
      )
      assert.strictEqual((duplicate as { code?: string }).code, "23505") // unique_violation
      const aborted = await client.query("SELECT 1").then(() => undefined, (e: unknown) => e)
      assert.strictEqual((aborted as { code?: string }).code, "25P02") // in_failed_sql_transaction
      await client.query("ROLLBACK")
      assert.strictEqual(await count(), 2)
    })
  })

  it("streams a large result (≈ 6 MB, 50 000 rows) and sends a 1 MiB parameter", async () => {
    await withClient(tcpConfig(), async (client) => {
      const rows = 50_000
      const result = await client.query<{ g: number; pad: string }>(
        "SELECT g, repeat(md5(g::text), 3) AS pad FROM generate_series(1, $1::int) AS g",
        [rows]
      )
      assert.strictEqual(result.rows.length, rows)
      let sum = 0
      for (const [i, row] of result.rows.entries()) {
        assert.strictEqual(row.g, i + 1)
        sum += row.g
      }
      assert.strictEqual(sum, (rows * (rows + 1)) / 2)
      const last = result.rows[rows - 1]
      assert.strictEqual(last?.pad, createHash("md5").update(String(rows)).digest("hex").repeat(3))

      const big = "0123456789abcdef".repeat(65_536) // 1 MiB
      const echoed = await client.query<{ n: number; digest: string }>(
        "SELECT length($1::text) AS n, md5($1::text) AS digest",
        [big]
      )
      assert.deepStrictEqual(echoed.rows[0], { n: big.length, digest: createHash("md5").update(big).digest("hex") })
    })
  })

  it("delivers LISTEN / NOTIFY notifications between two connections", async () => {
    await withClient(tcpConfig(), (listener) =>
      withClient(tcpConfig(), async (notifier) => {
        const received = new Promise<Notification>((resolve) => listener.once("notification", resolve))
        await listener.query("LISTEN sluice_events")
        await notifier.query("SELECT pg_notify('sluice_events', $1)", ["payload over compat"])
        const notification = await received
        assert.strictEqual(notification.channel, "sluice_events")
        assert.strictEqual(notification.payload, "payload over compat")
      }))
  })

  it("reports a refused connection with Node's error shape", async () => {
    const port = await freePort() // nobody listens there now
    const before = sockets.length
    const client = new Client({ ...tcpConfig(), port })
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException & { address?: string; port?: number }
    )
    assert.isTrue(isCompatSocket(sockets[before]))
    assert.strictEqual(error?.code, "ECONNREFUSED")
    assert.strictEqual(error?.syscall, "connect")
    assert.strictEqual(error?.address, "127.0.0.1")
    assert.strictEqual(error?.port, port)
    assert.strictEqual(error?.message, `connect ECONNREFUSED 127.0.0.1:${port}`)
    assert.isTrue(sockets[before]?.destroyed)
  })

  it("connects over the unix socket (pg calls socket.connect(path))", async () => {
    await withClient(
      { host: server.socketDir, port: server.port, user: server.user, database: server.database, stream: compatStream },
      async (client) => {
        const result = await client.query<{ local: boolean }>(
          "SELECT inet_client_addr() IS NULL AS local" // NULL on a unix-socket session
        )
        assert.isTrue(result.rows[0]?.local)
      }
    )
  })

  it("serves concurrent queries from a pg.Pool of compat connections", async () => {
    const before = sockets.length
    const closes: Array<Promise<boolean>> = []
    const pool = new Pool({
      ...tcpConfig(),
      max: 4,
      stream: () => {
        const socket = compatStream()
        closes.push(new Promise((resolve) => socket.once("close", resolve)))
        return socket
      }
    })
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => pool.query<{ v: number }>("SELECT $1::int * 2 AS v", [i]))
      )
      assert.deepStrictEqual(results.map((r) => r.rows[0]?.v), Array.from({ length: 12 }, (_, i) => i * 2))
      const opened = sockets.length - before
      assert.isTrue(opened >= 1 && opened <= 4, `pool opened ${opened} connections`)
    } finally {
      await pool.end()
    }
    // every pooled connection closes cleanly once the pool has ended
    assert.deepStrictEqual(await Promise.all(closes), closes.map(() => false))
    for (const socket of sockets.slice(before)) assert.isTrue(socket.destroyed)
  })
})
