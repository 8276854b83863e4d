/**
 * The Sluice benchmark suite: `npm run bench` (full, a few minutes) or
 * `npm run bench -- --quick` (under a minute).
 *
 * Every measurement runs a fresh server process and a fresh client process
 * (`child.ts`) on 127.0.0.1, both pinned to CPU 0 with `taskset` when it is
 * available. Within one repetition the peers run one after the other in an
 * order that rotates between repetitions; each figure is the median of the
 * repetitions with min..max, and the ratio to raw node:net's median measured
 * in the same run.
 *
 * The TLS scenarios (`tlsbulk`, `tlsecho`, `tlschurn1`, `tlschurn50`) run each
 * peer's TLS variant with one throwaway certificate made for the run: the
 * `node:net` peer is then node:tls over node:net, the reference of their
 * ratios.
 *
 * Options: `--quick`, `--reps=N`, `--only=bulk,echo,...`, `--peers=node:net,sluice,...`,
 * `--json=FILE` (raw samples), `--no-memory`, `--no-import` (skip the memory network, the import cost).
 */
import * as Certificates from "@sluice/node-adapter/Certificates"
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import type { TlsMaterial } from "./peers/common.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const child = path.join(here, "child.ts")
const memoryBench = path.join(here, "memory.ts")
const importCostBench = path.join(here, "import-cost.ts")
const smallWritesBench = path.join(here, "small-writes.ts")

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = args.includes("--quick")
const reps = Number(flag("reps") ?? (quick ? 1 : 3))
const ALL_PEERS = ["node:net", "effect/socket", "sluice", "sluice-stream", "compat"]
const peers = flag("peers")?.split(",") ?? ALL_PEERS

const MiB = 1024 * 1024
const size = quick
  ? {
    bulk: 64 * MiB,
    echo: 32 * MiB,
    pingMs: 300,
    churnMs: 300,
    idle: 500,
    memBytes: 64 * MiB,
    memMs: 200,
    tlsBulk: 64 * MiB,
    tlsEcho: 32 * MiB
  }
  : {
    bulk: 1024 * MiB,
    echo: 256 * MiB,
    pingMs: 2500,
    churnMs: 2000,
    idle: 5000,
    memBytes: 512 * MiB,
    memMs: 2000,
    tlsBulk: 512 * MiB,
    tlsEcho: 128 * MiB
  }
const processTimeoutMs = quick ? 30_000 : 90_000

const pinned = spawnSync("sh", ["-c", "command -v taskset"]).status === 0
const prefix = pinned ? ["taskset", "-c", "0"] : []

interface Scenario {
  readonly id: string
  readonly title: string
  readonly unit: string
  /** `true` when a larger figure is better. */
  readonly higher: boolean
  readonly server: "sink" | "echo"
  readonly client: string
  readonly params: Record<string, number>
  /** The figure, and extra figures printed beside it, of one sample. */
  readonly figure: (r: Record<string, number>) => { value: number; extra?: Record<string, number> }
  /** Over TLS: each peer's TLS variant, node:tls over node:net as the reference. */
  readonly tls?: boolean
}

const scenarios: Array<Scenario> = [
  {
    id: "bulk",
    title: `bulk one-way, ${size.bulk / MiB} MiB in 64 KiB writes`,
    unit: "MiB/s",
    higher: true,
    server: "sink",
    client: "bulk",
    params: { total: size.bulk, chunk: 65536 },
    figure: (r) => ({ value: r.bytes! / MiB / r.seconds! })
  },
  {
    id: "echo",
    title: `bulk echo, ${size.echo / MiB} MiB in 64 KiB writes`,
    unit: "MiB/s",
    higher: true,
    server: "echo",
    client: "echo",
    params: { total: size.echo, chunk: 65536 },
    figure: (r) => ({ value: r.bytes! / MiB / r.seconds! })
  },
  {
    id: "ping1",
    title: "ping-pong, 64 B, 1 connection",
    unit: "req/s",
    higher: true,
    server: "echo",
    client: "pingpong",
    params: { conns: 1, ms: size.pingMs },
    figure: (r) => ({ value: r.requests! / r.seconds!, extra: { p50: r.p50!, p99: r.p99! } })
  },
  {
    id: "ping50",
    title: "ping-pong, 64 B, 50 connections",
    unit: "req/s",
    higher: true,
    server: "echo",
    client: "pingpong",
    params: { conns: 50, ms: size.pingMs },
    figure: (r) => ({ value: r.requests! / r.seconds!, extra: { p50: r.p50!, p99: r.p99! } })
  },
  {
    id: "churn1",
    title: "connection churn, sequential",
    unit: "conn/s",
    higher: true,
    server: "echo",
    client: "churn",
    params: { conns: 1, ms: size.churnMs },
    figure: (r) => ({ value: r.connections! / r.seconds! })
  },
  {
    id: "churn50",
    title: "connection churn, 50 concurrent",
    unit: "conn/s",
    higher: true,
    server: "echo",
    client: "churn",
    params: { conns: 50, ms: size.churnMs },
    figure: (r) => ({ value: r.connections! / r.seconds! })
  },
  {
    id: "idle",
    title: `${size.idle} idle connections, server heap per connection after GC`,
    unit: "B/conn",
    higher: false,
    server: "echo",
    client: "idle",
    params: { n: size.idle, parallel: 100 },
    figure: (r) => ({ value: r.heap!, extra: { rss: r.rss! } })
  }
]

scenarios.push(
  {
    id: "tlsbulk",
    title: `TLS bulk one-way, ${size.tlsBulk / MiB} MiB in 64 KiB writes`,
    unit: "MiB/s",
    higher: true,
    server: "sink",
    client: "bulk",
    params: { total: size.tlsBulk, chunk: 65536 },
    figure: (r) => ({ value: r.bytes! / MiB / r.seconds! }),
    tls: true
  },
  {
    id: "tlsecho",
    title: `TLS bulk echo, ${size.tlsEcho / MiB} MiB in 64 KiB writes`,
    unit: "MiB/s",
    higher: true,
    server: "echo",
    client: "echo",
    params: { total: size.tlsEcho, chunk: 65536 },
    figure: (r) => ({ value: r.bytes! / MiB / r.seconds! }),
    tls: true
  },
  {
    id: "tlschurn1",
    title: "TLS handshake churn, sequential",
    unit: "conn/s",
    higher: true,
    server: "echo",
    client: "churn",
    params: { conns: 1, ms: size.churnMs },
    figure: (r) => ({ value: r.connections! / r.seconds! }),
    tls: true
  },
  {
    id: "tlschurn50",
    title: "TLS handshake churn, 50 concurrent",
    unit: "conn/s",
    higher: true,
    server: "echo",
    client: "churn",
    params: { conns: 50, ms: size.churnMs },
    figure: (r) => ({ value: r.connections! / r.seconds! }),
    tls: true
  }
)

/** One certificate for the run's TLS scenarios (made in memory, handed to the processes in their environment). */
const tlsMaterial: TlsMaterial = (() => {
  const ca = Certificates.authority({ commonName: "Sluice Bench CA" })
  const server = ca.issue({ hosts: ["localhost", "127.0.0.1"] })
  return { key: server.key, cert: server.cert, ca: ca.cert }
})()

const only = flag("only")?.split(",")
const selected = only === undefined ? scenarios : scenarios.filter((s) => only.includes(s.id))

// ---------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------

interface Proc {
  readonly process: ChildProcess
  readonly next: () => Promise<Record<string, unknown>>
  readonly stderr: () => string
}

const live = new Set<ChildProcess>()

const start = (argv: Array<string>, nodeFlags: Array<string> = [], tls = false): Proc => {
  const cmd = [...prefix, process.execPath, ...nodeFlags, child, ...argv]
  const env = tls ? { ...process.env, SLUICE_BENCH_TLS: JSON.stringify(tlsMaterial) } : process.env
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"], env })
  live.add(p)
  let err = ""
  p.stderr!.on("data", (d: Buffer) => {
    if (err.length < 4000) err += d.toString()
  })
  const lines: Array<string> = []
  const waiters: Array<(line: string | undefined) => void> = []
  let closed = false
  const rl = readline.createInterface({ input: p.stdout! })
  rl.on("line", (line) => {
    const w = waiters.shift()
    if (w !== undefined) w(line)
    else lines.push(line)
  })
  p.once("exit", () => {
    live.delete(p)
    closed = true
    for (const w of waiters.splice(0)) w(undefined)
  })
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        p.kill("SIGKILL")
        reject(new Error(`timed out after ${processTimeoutMs} ms: ${argv.join(" ")}`))
      }, processTimeoutMs)
      const take = (line: string | undefined) => {
        clearTimeout(timer)
        if (line === undefined) {
          reject(new Error(`exited without answer: ${argv.join(" ")} ${err.trim().split("\n").slice(-3).join(" | ")}`))
          return
        }
        const value = JSON.parse(line) as Record<string, unknown>
        if (typeof value.error === "string") reject(new Error(value.error))
        else resolve(value)
      }
      const line = lines.shift()
      if (line !== undefined) take(line)
      else if (closed) take(undefined)
      else waiters.push(take)
    })
  return { process: p, next, stderr: () => err }
}

const stop = (p: Proc): Promise<void> =>
  new Promise((resolve) => {
    if (p.process.exitCode !== null || p.process.signalCode !== null) return resolve()
    const timer = setTimeout(() => p.process.kill("SIGKILL"), 5000)
    p.process.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    p.process.stdin!.end()
  })

process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL")
})

const runOne = async (peer: string, s: Scenario): Promise<Record<string, number>> => {
  const server = start(["server", peer, s.server], ["--expose-gc"], s.tls === true)
  try {
    const ready = await server.next()
    const port = String(ready.port)
    if (s.client === "idle") {
      const baseline = ready.baseline as Record<string, number>
      const client = start(["client", "node:net", "idle", port, JSON.stringify(s.params)])
      try {
        await client.next()
        server.process.stdin!.write("measure\n")
        const m = (await server.next()).memory as Record<string, number>
        return {
          heap: (m.heap! - baseline.heap!) / s.params.n!,
          rss: (m.rss! - baseline.rss!) / s.params.n!
        }
      } finally {
        await stop(client)
      }
    }
    const client = start(["client", peer, s.client, port, JSON.stringify(s.params)], [], s.tls === true)
    try {
      const r = (await client.next()) as Record<string, number>
      if (s.client === "bulk" || s.client === "echo") {
        const expected = Math.ceil(s.params.total! / s.params.chunk!) * s.params.chunk!
        if (r.bytes !== expected) throw new Error(`expected ${expected} bytes, got ${r.bytes}`)
      }
      return r
    } finally {
      await stop(client)
    }
  } finally {
    await stop(server)
  }
}

// ---------------------------------------------------------------------------
// statistics and table
// ---------------------------------------------------------------------------

const median = (xs: ReadonlyArray<number>) => {
  const s = xs.toSorted((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const fmt = (x: number) =>
  !Number.isFinite(x)
    ? "n/a"
    : Math.abs(x) >= 1000
    ? Math.round(x).toLocaleString("en-US")
    : Math.abs(x) >= 100
    ? x.toFixed(0)
    : x.toFixed(1)

interface Cell {
  values: Array<number>
  extras: Record<string, Array<number>>
  error?: string
}

const results = new Map<string, Map<string, Cell>>()
const raw: Array<unknown> = []

const log = (line: string) => process.stderr.write(line + "\n")

const main = async () => {
  const t0 = performance.now()
  const cpu = os.cpus()[0]?.model ?? "unknown CPU"
  log(
    `Sluice bench (${
      quick ? "quick" : "full"
    }), ${reps} repetitions, node ${process.version}, ${os.cpus().length} × ${cpu}`
  )
  log(pinned ? "server and client pinned to CPU 0 (taskset -c 0)" : "taskset not found: processes are NOT pinned")
  for (const s of selected) {
    const cells = new Map<string, Cell>()
    results.set(s.id, cells)
    for (const p of peers) cells.set(p, { values: [], extras: {} })
    for (let r = 0; r < reps; r++) {
      const order = peers.map((_, i) => peers[(i + r) % peers.length]!)
      for (const peer of order) {
        const cell = cells.get(peer)!
        if (cell.error !== undefined) continue
        if (s.tls === true && peer === "compat") {
          cell.error = "no TLS peer yet (compat's node:tls surface is a later step)"
          continue
        }
        try {
          const sample = await runOne(peer, s)
          raw.push({ scenario: s.id, peer, rep: r, sample })
          const f = s.figure(sample)
          cell.values.push(f.value)
          for (const [k, v] of Object.entries(f.extra ?? {})) (cell.extras[k] ??= []).push(v)
          log(`  ${s.id} rep ${r + 1} ${peer}: ${fmt(f.value)} ${s.unit}`)
        } catch (e) {
          cell.error = e instanceof Error ? e.message : String(e)
          log(`  ${s.id} rep ${r + 1} ${peer}: n/a (${cell.error})`)
        }
      }
    }
  }
  if (selected.length > 0) printTable()
  if (!args.includes("--no-memory") && (only === undefined || only.includes("memory"))) await memoryNetwork()
  if (!args.includes("--no-import") && (only === undefined || only.includes("import"))) importCost()
  if (only === undefined || only.includes("smallwrites")) smallWrites()
  const json = flag("json")
  if (json !== undefined) fs.writeFileSync(json, JSON.stringify(raw, null, 2))
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}

const targets: Record<string, { sluice: number; compat: number; vsEffect: number | undefined }> = {
  bulk: { sluice: 1.3, compat: 1.2, vsEffect: 1.5 },
  echo: { sluice: 1.0, compat: 1.0, vsEffect: 1.5 },
  ping1: { sluice: 1.0, compat: 0.95, vsEffect: 1.5 },
  ping50: { sluice: 1.0, compat: 0.95, vsEffect: 1.5 },
  churn1: { sluice: 0.9, compat: 0.9, vsEffect: 2.5 },
  churn50: { sluice: 0.9, compat: 0.9, vsEffect: 2.5 },
  idle: { sluice: 2.0, compat: 1.5, vsEffect: 1.5 },
  // issue 16: against node:tls over node:net
  tlsbulk: { sluice: 0.9, compat: 0.9, vsEffect: undefined },
  tlsecho: { sluice: 0.9, compat: 0.9, vsEffect: undefined },
  tlschurn1: { sluice: 0.8, compat: 0.8, vsEffect: undefined },
  tlschurn50: { sluice: 0.8, compat: 0.8, vsEffect: undefined }
}

const printTable = () => {
  const out: Array<string> = []
  out.push(
    `| scenario | peer | median | min..max | × node:net | target | extra (median) |`,
    `|---|---|---:|---:|---:|---|---|`
  )
  for (const s of selected) {
    const cells = results.get(s.id)!
    const base = cells.get("node:net")
    const baseMedian = base && base.values.length > 0 ? median(base.values) : NaN
    const effMedian = (() => {
      const c = cells.get("effect/socket")
      return c && c.values.length > 0 ? median(c.values) : NaN
    })()
    for (const peer of peers) {
      const c = cells.get(peer)!
      const name = `${s.title} (${s.unit}${s.higher ? "" : ", lower is better"})`
      // over TLS the reference peer is node:tls over node:net
      const label = s.tls === true && peer === "node:net" ? "node:tls" : peer
      if (c.values.length === 0) {
        out.push(`| ${name} | ${label} | n/a | | | | ${c.error ?? ""} |`)
        continue
      }
      const m = median(c.values)
      const ratio = m / baseMedian
      let target = ""
      const t = targets[s.id]
      const effectFace = peer === "sluice" || peer === "sluice-stream"
      if (t !== undefined && (effectFace || peer === "compat")) {
        const want = effectFace ? t.sluice : t.compat
        const ok = s.higher ? ratio >= want : ratio <= want
        target = `${s.higher ? "≥" : "≤"} ${want} ${ok ? "✓" : "✗"}`
        if (effectFace) {
          const vs = s.higher ? m / effMedian : effMedian / m
          target += t.vsEffect === undefined
            ? `; ${fmt(vs)}× effect/socket`
            : `; ${fmt(vs)}× effect/socket (≥ ${t.vsEffect} ${vs >= t.vsEffect ? "✓" : "✗"})`
        }
      }
      const extra = Object.entries(c.extras).map(([k, v]) =>
        `${k} ${fmt(median(v))}${s.unit === "req/s" ? " µs" : s.unit === "B/conn" ? " B" : ""}`
      ).join(", ")
      out.push(
        `| ${name} | ${label} | ${fmt(m)} | ${fmt(Math.min(...c.values))}..${fmt(Math.max(...c.values))} | ${
          ratio.toFixed(2)
        } | ${target} | ${extra}${c.error !== undefined ? ` (failed later: ${c.error})` : ""} |`
      )
    }
  }
  process.stdout.write(out.join("\n") + "\n")
}

const memoryNetwork = async () => {
  if (!fs.existsSync(memoryBench)) return
  const cmd = [...prefix, process.execPath, "--expose-gc", memoryBench, JSON.stringify({ reps, ...size })]
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"], timeout: processTimeoutMs * 3 })
  if (r.status !== 0) process.stdout.write(`memory network: failed (exit ${r.status ?? r.signal})\n`)
}

/** What importing each package costs a process (`import-cost.ts`, from the packed packages). */
const importCost = () => {
  const cmd = [process.execPath, importCostBench, String(quick ? 11 : 31)]
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"], timeout: processTimeoutMs * 4 })
  if (r.status !== 0) process.stdout.write(`import cost: failed (exit ${r.status ?? r.signal})\n`)
}

/** Many small string writes, node:net vs compat (`small-writes.ts`), uncorked and corked by 100. */
const smallWrites = () => {
  for (const batch of ["1", "100"]) {
    const cmd = [
      process.execPath,
      ...process.execArgv,
      smallWritesBench,
      String(quick ? 3 : 5),
      String(quick ? 50_000 : 200_000)
    ]
    const r = spawnSync(cmd[0]!, cmd.slice(1), {
      stdio: ["ignore", "inherit", "inherit"],
      timeout: processTimeoutMs * 4,
      env: { ...process.env, SLUICE_BENCH_BATCH: batch }
    })
    if (r.status !== 0) process.stdout.write(`small writes: failed (exit ${r.status ?? r.signal})\n`)
  }
}

main().catch((e: unknown) => {
  log(`bench failed: ${e instanceof Error ? e.stack : String(e)}`)
  process.exit(1)
})
