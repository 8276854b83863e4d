/**
 * The differential harness: a scenario is a function of a `net`-like module
 * and a recorder. It runs once on `node:net` and once on compat; the recorded
 * traces must be equal.
 *
 * A trace is kept per actor (a server, a client, the scenario's own steps), so
 * that the order of events within one object is compared exactly while the
 * interleaving of independent objects (which the kernel decides) is not.
 * Only what is really nondeterministic is normalised: ephemeral port numbers
 * (named in order of first appearance), the temporary directory, and the
 * chunking of received bytes (consecutive `data` events are merged).
 */
import * as fs from "node:fs"
import type * as NodeNet from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"

/** A module with the shape of `node:net`. */
export type NetLike = typeof NodeNet

/** One recorded entry. */
export type Entry = readonly [string, ...Array<unknown>]

/** Which networks a scenario needs. */
export type Needs = "tcp" | "ipc" | "dns" | "fd" | "host"

/** A differential scenario. */
export interface Scenario {
  readonly name: string
  /**
   * What the scenario needs beyond in-process TCP on 127.0.0.1 (default: nothing); `host`: the real host's own
   * set of addresses (on the memory network every address is local).
   */
  readonly needs?: ReadonlyArray<Needs>
  readonly run: (net: NetLike, rec: Recorder) => Promise<void> | void
}

/** Defines a scenario. */
export const scenario = (
  name: string,
  run: Scenario["run"],
  needs?: ReadonlyArray<Needs>
): Scenario => (needs === undefined ? { name, run } : { name, run, needs })

type Closeable = { destroy(): unknown } | { close(): unknown }

/** Records what a scenario observes. */
export class Recorder {
  readonly traces = new Map<string, Array<Entry>>()
  private readonly cleanups: Array<Closeable> = []
  readonly tmp: string

  constructor(tmp: string) {
    this.tmp = tmp
  }

  /** Appends an entry to an actor's trace. */
  log(actor: string, what: string, ...args: Array<unknown>): void {
    let trace = this.traces.get(actor)
    if (trace === undefined) {
      trace = []
      this.traces.set(actor, trace)
    }
    const values = args.map((a) => describe(a))
    const last = trace[trace.length - 1]
    if (what === "data" && last !== undefined && last[0] === "data" && typeof values[0] === "string") {
      trace[trace.length - 1] = ["data", `${last[1] as string}${values[0]}`]
      return
    }
    trace.push([what, ...values])
  }

  /** A step of the scenario itself. */
  step(what: string, ...args: Array<unknown>): void {
    this.log("scenario", what, ...args)
  }

  /** Records the listed properties of `target` under `actor`. */
  props(actor: string, label: string, target: object, keys: ReadonlyArray<string>): void {
    const out: Record<string, unknown> = {}
    for (const k of keys) out[k] = (target as Record<string, unknown>)[k]
    this.log(actor, `props ${label}`, out)
  }

  /** Records the events of an emitter under `actor` (and closes it at the end). */
  watch<T extends NodeJS.EventEmitter>(actor: string, emitter: T, events: ReadonlyArray<string>): T {
    if ("destroy" in emitter || "close" in emitter) this.cleanups.push(emitter as unknown as Closeable)
    for (const event of events) {
      emitter.on(event, (...args: Array<unknown>) => {
        if (event === "data") this.log(actor, "data", bytes(args[0]))
        else this.log(actor, event, ...args)
      })
    }
    return emitter
  }

  /** Registers something to close at the end without watching it. */
  track<T extends Closeable>(x: T): T {
    this.cleanups.push(x)
    return x
  }

  /** Runs `f` and records a throw (or `"returned"`). */
  attempt(actor: string, label: string, f: () => unknown): unknown {
    try {
      const r = f()
      this.log(actor, `${label} returned`)
      return r
    } catch (error) {
      this.log(actor, `${label} threw`, error)
      return undefined
    }
  }

  /** A unix socket path in this run's temporary directory. */
  path(name: string): string {
    return path.join(this.tmp, name)
  }

  /** A bounded wait for a condition reached by events (never a sleep). */
  ticks(n: number): Promise<void> {
    return new Promise((resolve) => {
      const step = (k: number) => (k === 0 ? resolve() : setImmediate(() => step(k - 1)))
      step(n)
    })
  }

  /** @internal */
  async cleanup(): Promise<void> {
    for (const c of this.cleanups.toReversed()) {
      try {
        if ("destroy" in c) c.destroy()
        else c.close()
      } catch {
        // already closed
      }
    }
    await this.ticks(2)
  }
}

const bytes = (chunk: unknown): string =>
  typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("latin1") : String(chunk)

/** Describes an error the way the traces compare them. */
export const errorShape = (e: unknown): Record<string, unknown> => {
  const error = e as Error & Record<string, unknown>
  const out: Record<string, unknown> = {
    class: error?.constructor?.name,
    name: error.name,
    message: error.message
  }
  for (const k of ["code", "errno", "syscall", "address", "port", "hostname", "localAddress", "localPort"]) {
    if (k in error) out[k] = error[k]
  }
  out["keys"] = Object.keys(error)
  if (error instanceof AggregateError) out["errors"] = error.errors.map(errorShape)
  return out
}

const describe = (value: unknown): unknown => {
  if (value instanceof Error) return { error: errorShape(value) }
  if (Buffer.isBuffer(value)) return `<Buffer ${value.toString("latin1")}>`
  if (value === null || value === undefined) return value
  if (typeof value === "function") return `<function ${value.name}>`
  if (typeof value === "object") {
    const ctor = value.constructor?.name
    if (ctor === "Socket" || ctor === "Server") return `<${ctor}>`
    if (Array.isArray(value)) return value.map(describe)
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = describe(v)
    if (Object.getPrototypeOf(value) === null) out["<proto>"] = null
    return out
  }
  return value
}

/** Runs a scenario on one module; returns its normalised trace. */
export const runScenario = async (
  s: Scenario,
  net: NetLike,
  timeoutMs = 8000
): Promise<Record<string, ReadonlyArray<Entry>>> => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-diff-"))
  const rec = new Recorder(tmp)
  try {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.resolve().then(() => s.run(net, rec)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scenario "${s.name}" timed out`)), timeoutMs)
      })
    ]).catch((error: unknown) => rec.log("scenario", "failed", error))
    clearTimeout(timer)
  } finally {
    await rec.cleanup()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return normalise(Object.fromEntries(rec.traces), tmp)
}

/** Replaces ephemeral ports (≥ 1024) and the temp dir by stable names. */
export const normalise = (
  traces: Record<string, ReadonlyArray<Entry>>,
  tmp: string
): Record<string, ReadonlyArray<Entry>> => {
  const ports = new Map<number, string>()
  const name = (p: number) => {
    let n = ports.get(p)
    if (n === undefined) {
      n = `<port ${ports.size + 1}>`
      ports.set(p, n)
    }
    return n
  }
  const portKey = /port$/i
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (typeof v === "number" && key !== undefined && portKey.test(key) && v >= 1024) return name(v)
    // a port given as a string is kept as one (an error names the option as it was given)
    if (typeof v === "string" && key !== undefined && portKey.test(key) && /^\d{4,5}$/.test(v) && Number(v) >= 1024) {
      return `'${name(Number(v))}'`
    }
    if (typeof v === "string") {
      let s = v.split(tmp).join("<tmp>")
      s = s.replace(/(\d+\.\d+\.\d+\.\d+|\]|::1?|:::?):(\d{4,5})\b/g, (_m, host: string, p: string) => {
        const n = Number(p)
        return n >= 1024 ? `${host}:${name(n)}` : `${host}:${p}`
      })
      return s
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined))
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k)
      return out
    }
    return v
  }
  const actors = Object.keys(traces).toSorted()
  const out: Record<string, ReadonlyArray<Entry>> = {}
  for (const actor of actors) {
    out[actor] = traces[actor]!.map((entry) => {
      const [what, ...args] = entry
      // a port passed as an event argument (e.g. 'connectionAttempt')
      return [what, ...args.map((a, i) => walk(a, typeof a === "number" && i === 1 ? "port" : undefined))] as Entry
    })
  }
  return out
}

/** Formats a trace for failure messages. */
export const show = (trace: unknown): string => inspect(trace, { depth: 8, breakLength: 120 })

/** Resolves when `emitter` emits `event` (with its arguments). */
export const once = (emitter: NodeJS.EventEmitter, event: string): Promise<Array<unknown>> =>
  new Promise((resolve) => emitter.once(event, (...args: Array<unknown>) => resolve(args)))

/** Listens on 127.0.0.1:0; resolves with the port. */
export const listen = async (server: NodeNet.Server, host = "127.0.0.1"): Promise<number> => {
  server.listen(0, host)
  await once(server, "listening")
  return (server.address() as NodeNet.AddressInfo).port
}

/** Accepts one connection. */
export const accept = (server: NodeNet.Server): Promise<NodeNet.Socket> =>
  once(server, "connection").then((args) => args[0] as NodeNet.Socket)

/** The events a socket can emit. */
export const socketEvents = [
  "lookup",
  "connectionAttempt",
  "connectionAttemptFailed",
  "connectionAttemptTimeout",
  "connect",
  "ready",
  "data",
  "drain",
  "end",
  "finish",
  "timeout",
  "error",
  "close"
] as const

/** The events a server can emit. */
export const serverEvents = ["listening", "connection", "drop", "error", "close"] as const

/** Properties of a socket worth recording. */
export const socketProps = [
  "connecting",
  "pending",
  "destroyed",
  "readyState",
  "readable",
  "writable",
  "allowHalfOpen",
  "bytesRead",
  "bytesWritten",
  "bufferSize",
  "timeout",
  "remoteAddress",
  "remotePort",
  "remoteFamily",
  "localAddress",
  "localFamily"
] as const

const abbreviate = (s: string): string => (s.length > 160 ? `${s.slice(0, 70)}…(${s.length} chars)…${s.slice(-70)}` : s)

/** A compact, line-per-entry comparison of two traces, for failure messages. */
export const diffText = (
  expected: Record<string, ReadonlyArray<Entry>>,
  actual: Record<string, ReadonlyArray<Entry>>
): string => {
  const lines: Array<string> = []
  for (const actor of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = (expected[actor] ?? []).map((x) => abbreviate(JSON.stringify(x)))
    const a = (actual[actor] ?? []).map((x) => abbreviate(JSON.stringify(x)))
    for (let i = 0; i < Math.max(e.length, a.length); i++) {
      if (e[i] === a[i]) lines.push(`  [${actor}]   ${e[i]}`)
      else {
        lines.push(`  [${actor}] node:net ${e[i]}`)
        lines.push(`  [${actor}] compat   ${a[i]}`)
      }
    }
  }
  return lines.join("\n")
}
