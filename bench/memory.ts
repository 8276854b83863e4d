/**
 * The memory network in one process, against a plain in-process
 * `stream.Duplex` pair (`stream.duplexPair()`): bulk one-way throughput and
 * 64-byte ping-pong on one connection. Started by `run.ts` with its sizes as a
 * JSON argument; prints a Markdown table.
 */
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import { duplexPair } from "node:stream"
import type { Duplex } from "node:stream"
import type { Peer } from "./peers/common.ts"
import { MESSAGE, micros } from "./peers/common.ts"
import * as NetPeer from "./peers/NetPeer.ts"
import * as SluicePeer from "./peers/SluicePeer.ts"

interface Sizes {
  readonly reps: number
  readonly memBytes: number
  readonly memMs: number
}

const sizes = JSON.parse(process.argv[2] ?? "{}") as Sizes
const chunk = new Uint8Array(65536).fill(0x78)

interface Contender {
  readonly name: string
  readonly bulk: () => Promise<number>
  readonly pingpong: () => Promise<{ requests: number; seconds: number; latencies: Array<number> }>
}

const duplexBulk = (total: number): Promise<number> =>
  new Promise((resolve) => {
    const [a, b] = duplexPair()
    let received = 0
    b.on("data", (c: Uint8Array) => {
      received += c.length
    })
    b.on("end", () => resolve(received))
    let sent = 0
    const loop = () => {
      while (sent < total) {
        sent += chunk.length
        if (!a.write(chunk)) {
          a.once("drain", loop)
          return
        }
      }
      a.end()
    }
    loop()
  })

const duplexPing = (ms: number) =>
  new Promise<{ requests: number; seconds: number; latencies: Array<number> }>((resolve) => {
    const [a, b]: [Duplex, Duplex] = duplexPair()
    b.on("data", (c: Uint8Array) => b.write(c))
    const latencies: Array<number> = []
    const start = performance.now()
    const deadline = start + ms
    let got = 0
    let t0 = performance.now()
    a.on("data", (c: Uint8Array) => {
      got += c.length
      if (got < MESSAGE.length) return
      got -= MESSAGE.length
      latencies.push(micros(t0))
      if (performance.now() < deadline) {
        t0 = performance.now()
        a.write(MESSAGE)
      } else {
        a.destroy()
        b.destroy()
        resolve({ requests: latencies.length, seconds: (performance.now() - start) / 1000, latencies })
      }
    })
    a.write(MESSAGE)
  })

/** A peer over a fresh memory network for each measurement. */
const overMemory = (name: string, make: (network: MemoryNetwork.MemoryNetworkShape) => Peer): Contender => {
  const withPeer = async <A>(mode: "sink" | "echo", f: (peer: Peer, port: number) => Promise<A>): Promise<A> => {
    const network = MemoryNetwork.make()
    const peer = make(network)
    const port = await peer.server(mode)
    try {
      return await f(peer, port)
    } finally {
      network.dispose()
    }
  }
  return {
    name,
    bulk: () => withPeer("sink", (peer, port) => peer.bulk(port, sizes.memBytes, chunk)),
    pingpong: () =>
      withPeer("echo", async (peer, port) => {
        const start = performance.now()
        const r = await peer.pingpong(port, 1, start + sizes.memMs)
        return { ...r, seconds: (performance.now() - start) / 1000 }
      })
  }
}

const compatOverMemory = async (): Promise<Contender | string> => {
  try {
    const specifier = "@sluice/compat"
    const mod = (await import(specifier)) as { createNet?: (driver: unknown) => NetPeer.NetLike }
    if (typeof mod.createNet !== "function") return "@sluice/compat has no createNet"
    const createNet = mod.createNet
    return overMemory("compat over memory", (network) => NetPeer.make(createNet(network.driver)))
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = xs.toSorted((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const main = async () => {
  const duplex: Contender = {
    name: "stream.duplexPair()",
    bulk: () => duplexBulk(sizes.memBytes),
    pingpong: () => duplexPing(sizes.memMs)
  }
  const contenders: Array<Contender> = [
    duplex,
    overMemory("Sluice Effect face over memory", (network) => SluicePeer.make(Network.make(network.driver), "pull"))
  ]
  const compat = await compatOverMemory()
  if (typeof compat === "string") process.stderr.write(`compat over memory: n/a (${compat})\n`)
  else contenders.push(compat)
  const bulk = new Map<string, Array<number>>()
  const ping = new Map<string, Array<number>>()
  const p50 = new Map<string, Array<number>>()
  for (let r = 0; r < sizes.reps; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + r) % contenders.length]!
      let t0 = performance.now()
      const n = await c.bulk()
      const mibs = n / (1024 * 1024) / ((performance.now() - t0) / 1000)
      const pp = await c.pingpong()
      t0 = performance.now()
      ;(bulk.get(c.name) ?? bulk.set(c.name, []).get(c.name)!).push(mibs)
      ;(ping.get(c.name) ?? ping.set(c.name, []).get(c.name)!).push(pp.requests / pp.seconds)
      const sorted = pp.latencies.toSorted((a, b) => a - b)
      ;(p50.get(c.name) ?? p50.set(c.name, []).get(c.name)!).push(sorted[sorted.length >> 1] ?? 0)
      process.stderr.write(
        `  memory rep ${r + 1} ${c.name}: ${mibs.toFixed(0)} MiB/s, ${(pp.requests / pp.seconds).toFixed(0)} req/s\n`
      )
    }
  }
  const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1))
  const baseBulk = median(bulk.get(duplex.name)!)
  const basePing = median(ping.get(duplex.name)!)
  const out = [
    "",
    `| in one process | peer | median | min..max | × duplexPair |`,
    `|---|---|---:|---:|---:|`
  ]
  for (const c of contenders) {
    const b = bulk.get(c.name)!
    out.push(
      `| throughput, ${sizes.memBytes / 1024 / 1024} MiB one-way in 64 KiB writes (MiB/s) | ${c.name} | ${
        fmt(median(b))
      } | ${fmt(Math.min(...b))}..${fmt(Math.max(...b))} | ${(median(b) / baseBulk).toFixed(2)} |`
    )
  }
  for (const c of contenders) {
    const p = ping.get(c.name)!
    out.push(
      `| ping-pong, 64 B, 1 connection (req/s; p50 ${fmt(median(p50.get(c.name)!))} µs) | ${c.name} | ${
        fmt(median(p))
      } | ${fmt(Math.min(...p))}..${fmt(Math.max(...p))} | ${(median(p) / basePing).toFixed(2)} |`
    )
  }
  process.stdout.write(out.join("\n") + "\n")
  process.exit(0)
}

main().catch((e: unknown) => {
  process.stderr.write(`memory bench failed: ${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
