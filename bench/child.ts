/**
 * One benchmark process, started by `run.ts`: a server or a client of one
 * peer. Talks to the parent with one JSON object per line on stdout; a server
 * takes `measure` commands on stdin and exits when stdin closes.
 *
 *   node bench/child.ts server <peer> <sink|echo>
 *   node bench/child.ts client <peer> <scenario> <port> <params-json>
 */
import * as readline from "node:readline"
import type { Peer } from "./peers/common.ts"
import { tlsMaterial } from "./peers/common.ts"
import * as NetPeer from "./peers/NetPeer.ts"

/** The peers, by the name used on the command line and in the table. */
export const PEERS = ["node:net", "effect/socket", "sluice", "sluice-stream", "compat"] as const

/** A peer's name. */
export type PeerName = (typeof PEERS)[number]

/**
 * Loads a peer; rejects with a readable reason when it cannot run. With TLS
 * material in the environment (a TLS scenario), the peer's TLS variant.
 */
export const loadPeer = async (name: string): Promise<Peer> => {
  const tls = tlsMaterial()
  if (tls !== undefined) {
    switch (name) {
      case "node:net":
        return NetPeer.make(NetPeer.tlsModule(tls))
      case "effect/socket":
        return (await import("./peers/EffectSocketPeer.ts")).tlsPeer(tls)
      case "sluice":
        return (await import("./peers/SluicePeer.ts")).tlsPeer(tls, "pull")
      case "sluice-stream":
        return (await import("./peers/SluicePeer.ts")).tlsPeer(tls, "stream")
    }
    throw new Error(`the ${name} peer has no TLS here (compat's node:tls surface is a later step)`)
  }
  switch (name) {
    case "node:net":
      return NetPeer.make(await import("node:net"))
    case "effect/socket":
      return (await import("./peers/EffectSocketPeer.ts")).peer
    case "sluice":
      return (await import("./peers/SluicePeer.ts")).peer
    case "sluice-stream":
      return (await import("./peers/SluicePeer.ts")).streamPeer
    case "compat": {
      // a variable specifier: the bench type-checks while compat is being written
      const specifier = "@sluice/compat"
      const mod = (await import(specifier)) as Partial<NetPeer.NetLike> & { default?: Partial<NetPeer.NetLike> }
      const net = typeof mod.createServer === "function" ? mod : mod.default
      if (typeof net?.createServer !== "function" || typeof net.connect !== "function") {
        throw new Error("@sluice/compat does not export createServer/connect yet")
      }
      return NetPeer.make(net as NetPeer.NetLike)
    }
  }
  throw new Error(`unknown peer ${name}`)
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) { for (let i = 0; i < 4; i++) g() }
}

const memory = () => {
  gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers }
}

const send = (value: unknown): void => {
  process.stdout.write(JSON.stringify(value) + "\n")
}

const main = async (): Promise<void> => {
  const [role, peerName, mode, portArg, paramsArg] = process.argv.slice(2)
  if (role === "server") {
    const peer = await loadPeer(peerName!)
    const port = await peer.server(mode === "sink" ? "sink" : "echo")
    const baseline = memory()
    send({ port, baseline })
    const rl = readline.createInterface({ input: process.stdin })
    rl.on("line", (line) => {
      if (line.trim() === "measure") {
        // let pending handlers settle before measuring
        setTimeout(() => send({ memory: memory() }), 200)
      }
    })
    rl.on("close", () => process.exit(0))
    return
  }
  const port = Number(portArg)
  const params = JSON.parse(paramsArg ?? "{}") as Record<string, number>
  if (mode === "idle") {
    const sockets = await NetPeer.openIdle(await import("node:net"), port, params.n!, params.parallel ?? 100)
    send({ open: sockets.length })
    process.stdin.resume()
    process.stdin.on("end", () => process.exit(0))
    return
  }
  const peer = await loadPeer(peerName!)
  const chunk = new Uint8Array(params.chunk ?? 65536).fill(0x78)
  const t0 = performance.now()
  switch (mode) {
    case "bulk": {
      const n = await peer.bulk(port, params.total!, chunk)
      send({ seconds: (performance.now() - t0) / 1000, bytes: n })
      break
    }
    case "echo": {
      const n = await peer.echo(port, params.total!, chunk)
      send({ seconds: (performance.now() - t0) / 1000, bytes: n })
      break
    }
    case "pingpong": {
      const r = await peer.pingpong(port, params.conns!, t0 + params.ms!)
      const seconds = (performance.now() - t0) / 1000
      const sorted = Float64Array.from(r.latencies).toSorted()
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
      send({ seconds, requests: r.requests, p50: pct(0.5), p99: pct(0.99) })
      break
    }
    case "churn": {
      const n = await peer.churn(port, params.conns!, t0 + params.ms!)
      send({ seconds: (performance.now() - t0) / 1000, connections: n })
      break
    }
    default:
      throw new Error(`unknown scenario ${mode}`)
  }
  process.exit(0)
}

main().catch((error: unknown) => {
  send({ error: error instanceof Error ? error.message : String(error) })
  process.exit(1)
})
