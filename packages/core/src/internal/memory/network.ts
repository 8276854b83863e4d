/**
 * The memory network: the registries of listeners and connections, the host
 * table, faults, partitions, and the connect, listen and lookup procedures.
 *
 * Model: every address is local to one virtual machine, as on a host that
 * owns every IP. The public face is `MemoryNetwork.ts`.
 *
 * @internal
 */
import { format, isIP } from "../../Address.ts"
import type {
  ConnectTarget,
  DriverError,
  Endpoint,
  Family,
  Handle,
  ListenerEvents,
  ListenerHandle,
  ListenTarget,
  LookupAddress,
  LookupOptions,
  PendingConnect,
  Timers
} from "../../Driver.ts"
import type { Options, Paths } from "../../MemoryNetwork.ts"
import { familyOf, hostKey, unspecified } from "./addresses.ts"
import { Conn } from "./connection.ts"
import { error } from "./errors.ts"
import { type FaultRule, linkOf } from "./faults.ts"
import { MemoryListener } from "./listener.ts"
import { bindFailure, connectFailure } from "./paths.ts"
import { Random, realTimers, RunQueue, type Task, type TaskQueue } from "./scheduling.ts"
import { StallWatch } from "./stall.ts"
import { SYN_RETRIES } from "./tcp.ts"

const warnOnConsole = (message: string): void =>
  (globalThis as { readonly console?: { readonly warn: (message: string) => void } }).console?.warn(message)

/** Options of a network: the public options, the timers it runs on and the queue its deferred work waits in. */
export interface NetworkOptions extends Options {
  readonly timers?: Timers | undefined
  readonly queue?: TaskQueue | undefined
  readonly warn?: ((message: string) => void) | undefined
}

/** The virtual network: registries, host table, faults. */
export class VirtualNetwork {
  readonly queue: TaskQueue
  readonly random: Random
  readonly timers: Timers
  readonly bufferSize: number
  readonly retransmissionTimeout: number
  readonly nagle: boolean
  readonly ephemeral: readonly [number, number]
  readonly hosts = new Map<string, Array<LookupAddress>>()
  readonly tcpListeners: Array<MemoryListener> = []
  readonly ipcListeners = new Map<string, MemoryListener>()
  readonly connections = new Set<Conn>()
  readonly rules: Array<FaultRule> = []
  readonly partitions = new Set<string>()
  readonly usedPorts = new Set<number>()
  readonly pendingConnects = new Set<{ readonly cancel: () => void; host: string | undefined }>()
  readonly log: Array<string> | undefined
  readonly onTrace: ((line: string, now: number) => void) | undefined
  /** Hosts (partition keys) whose process crashed: see `killHost`. */
  readonly deadHosts = new Set<string>()
  /** The host's file system, as binds and connects on a path see it (`undefined`: none). */
  readonly paths: Paths | undefined
  /** What waits for the clock when it stands still (`undefined` on real timers: they always move). */
  readonly stall: StallWatch | undefined
  /** Reports what a test should know (a close the stall watch aborted). */
  readonly warn: (message: string) => void
  private nextId = 1
  private roundRobin = 0

  constructor(options: NetworkOptions | undefined) {
    this.random = new Random(options?.seed ?? 1)
    this.timers = options?.timers ?? realTimers
    this.queue = options?.queue ?? new RunQueue()
    this.bufferSize = Math.max(1, options?.bufferSize ?? 65536)
    // Linux gives up after tcp_retries2 = 15 retransmissions: about 924.6 s
    this.retransmissionTimeout = options?.retransmissionTimeout ?? 924_600
    this.nagle = options?.nagle ?? true
    this.ephemeral = options?.ephemeralPorts ?? [32768, 60999]
    this.log = options?.trace === true ? [] : undefined
    this.onTrace = options?.onTrace
    this.paths = options?.paths
    const stallTimeout = options?.stallTimeout ?? 2000
    this.stall = options?.timers === undefined || !(stallTimeout < Infinity)
      ? undefined
      : new StallWatch({ now: () => this.timers.now(), work: () => this.queue.ran }, stallTimeout)
    this.warn = options?.warn ?? warnOnConsole
    this.setHost("localhost", ["127.0.0.1", "::1"])
    for (const [name, addresses] of Object.entries(options?.hosts ?? {})) this.setHost(name, addresses)
    for (const rule of options?.faults ?? []) this.rules.push(rule)
  }

  record(line: string): void {
    this.log?.push(line)
    this.onTrace?.(line, this.timers.now())
  }

  setHost(name: string, addresses: string | ReadonlyArray<string>): void {
    const resolved: Array<LookupAddress> = []
    for (const address of typeof addresses === "string" ? [addresses] : addresses) {
      const family = isIP(address)
      if (family !== 0) resolved.push({ address, family })
    }
    this.hosts.set(name.toLowerCase(), resolved)
  }

  removeHost(name: string): void {
    this.hosts.delete(name.toLowerCase())
  }

  /** The addresses a host name or address stands for, as partition keys. */
  keysOf(host: string): Array<string> {
    if (isIP(host) !== 0) return [hostKey(host)]
    return (this.hosts.get(host.toLowerCase()) ?? []).map((a) => hostKey(a.address))
  }

  partition(a: string, b: string): void {
    for (const x of this.keysOf(a)) {
      for (const y of this.keysOf(b)) {
        this.partitions.add(`${x}|${y}`)
        this.partitions.add(`${y}|${x}`)
      }
    }
    this.record(`partition ${a} ${b}`)
  }

  heal(a?: string, b?: string): void {
    if (a === undefined || b === undefined) this.partitions.clear()
    else {
      for (const x of this.keysOf(a)) {
        for (const y of this.keysOf(b)) {
          this.partitions.delete(`${x}|${y}`)
          this.partitions.delete(`${y}|${x}`)
        }
      }
    }
    this.record(`heal ${a ?? "all"} ${b ?? ""}`.trimEnd())
    for (const conn of this.connections) conn.wake()
  }

  partitioned(a: string | undefined, b: string | undefined): boolean {
    return a !== undefined && b !== undefined && this.partitions.size > 0 && this.partitions.has(`${a}|${b}`)
  }

  /** Links of a new connection, from the rules matching its server side. */
  private rulesFor(
    server: { host: string | undefined; port: number | undefined; path: string | undefined },
    client: string | undefined
  ) {
    const out: Array<FaultRule> = []
    for (const rule of this.rules) {
      const m = rule.match
      if (m !== undefined) {
        if (m.path !== undefined && m.path !== server.path) continue
        if (m.port !== undefined && m.port !== server.port) continue
        if (m.host !== undefined && (server.host === undefined || !this.keysOf(m.host).includes(server.host))) {
          continue
        }
        if (m.client !== undefined && (client === undefined || !this.keysOf(m.client).includes(client))) continue
      }
      out.push(rule)
    }
    return out
  }

  /** Runs `f` after `ms` (through the run queue); returns a canceller. */
  after(ms: number, f: () => void): () => void {
    let cancelled = false
    const task: Task = {
      run: () => {
        if (!cancelled) f()
      }
    }
    if (ms <= 0) {
      this.queue.post(task)
      return () => {
        cancelled = true
      }
    }
    const cancel = this.timers.schedule(ms, () => this.queue.post(task))
    return () => {
      cancelled = true
      cancel()
    }
  }

  ephemeralPort(): number | undefined {
    const [min, max] = this.ephemeral
    const span = max - min + 1
    const start = this.random.int(0, span - 1)
    for (let i = 0; i < span; i++) {
      const port = min + ((start + i) % span)
      if (!this.usedPorts.has(port)) return port
    }
    return undefined
  }

  // -- listen ---------------------------------------------------------------

  private conflicts(address: string, port: number, dualStack: boolean, reusePort: boolean): boolean {
    const family = familyOf(address)
    for (const l of this.tcpListeners) {
      if (l.port !== port) continue
      if (reusePort && l.reusePort && l.address === address) continue
      const lFamily = familyOf(l.address)
      if (lFamily === family) {
        if (unspecified(l.address) || unspecified(address) || l.address === address) return true
      } else {
        // an IPv6 wildcard that takes IPv4 too overlaps every IPv4 address
        if (family === "IPv4" && l.dualStack) return true
        if (lFamily === "IPv4" && dualStack) return true
      }
    }
    return false
  }

  listen(
    target: ListenTarget,
    events: ListenerEvents,
    callback: (error: DriverError | undefined, listener: ListenerHandle | undefined) => void
  ): void {
    // a bind that succeeds is reported at once (node binds synchronously, its
    // address is readable as soon as `listen` returns); failures on a later turn
    const reply = (e: DriverError | undefined, l: ListenerHandle | undefined) =>
      e === undefined ? callback(e, l) : this.queue.post({ run: () => callback(e, l) })
    switch (target._tag) {
      case "Fd":
        return reply(error("ENOTSUP", "listen"), undefined)
      case "Ipc": {
        if (this.ipcListeners.has(target.path)) return reply(error("EADDRINUSE", "listen", target.path), undefined)
        const refused = bindFailure(this.paths, target.path, target.removeStale === true)
        if (refused !== undefined) return reply(error(refused, "listen", target.path), undefined)
        const local: Endpoint = { _tag: "Ipc", path: target.path }
        const listener = new MemoryListener(this, target, local, events, {
          address: target.path,
          port: 0,
          dualStack: false,
          reusePort: false,
          backlog: Math.min(target.backlog, 4096)
        })
        this.ipcListeners.set(target.path, listener)
        this.record(`listen ${target.path}`)
        return reply(undefined, listener)
      }
      case "Tcp": {
        const host = target.host
        // binding is synchronous, as in node: a second listen in the same tick sees EADDRINUSE
        if (host === undefined || isIP(host) !== 0) return reply(...this.bind(target, host ?? "::", events))
        // a name: resolve it first, as node's server.listen does
        this.lookup(host, { family: 0, hints: 0, all: false }, (e, addresses) => {
          if (e !== undefined || addresses.length === 0) {
            callback(e ?? error("ENOTFOUND", "getaddrinfo", host), undefined)
          } else callback(...this.bind(target, addresses[0]!.address, events))
        })
      }
    }
  }

  private bind(
    target: Extract<ListenTarget, { _tag: "Tcp" }>,
    address: string,
    events: ListenerEvents
  ): [DriverError | undefined, ListenerHandle | undefined] {
    if (this.deadHosts.has(hostKey(address))) return [error("EADDRNOTAVAIL", "listen", address, target.port), undefined]
    const dualStack = address === "::" && !target.ipv6Only
    let port = target.port
    if (port === 0) {
      const chosen = this.ephemeralPort()
      if (chosen === undefined) return [error("EADDRINUSE", "listen", address, 0), undefined]
      port = chosen
    } else if (this.conflicts(address, port, dualStack, target.reusePort)) {
      return [error("EADDRINUSE", "listen", address, port), undefined]
    }
    const local: Endpoint = { _tag: "Tcp", address, port, family: familyOf(address) }
    const listener = new MemoryListener(this, target, local, events, {
      address,
      port,
      dualStack,
      reusePort: target.reusePort,
      backlog: Math.min(target.backlog, 4096)
    })
    this.tcpListeners.push(listener)
    this.usedPorts.add(port)
    this.record(`listen ${format(local)}`)
    return [undefined, listener]
  }

  unbind(listener: MemoryListener): void {
    if (listener.target._tag === "Ipc") {
      if (this.ipcListeners.get(listener.target.path) === listener) this.ipcListeners.delete(listener.target.path)
      return
    }
    const i = this.tcpListeners.indexOf(listener)
    if (i >= 0) this.tcpListeners.splice(i, 1)
    if (!this.tcpListeners.some((l) => l.port === listener.port)) this.usedPorts.delete(listener.port)
  }

  private findListener(address: string, port: number): MemoryListener | undefined {
    const family = familyOf(address)
    const candidates: Array<MemoryListener> = []
    let best = 0
    for (const l of this.tcpListeners) {
      if (l.port !== port || l.closed) continue
      let score = 0
      if (hostKey(l.address) === hostKey(address) && familyOf(l.address) === family) score = 3
      else if (unspecified(l.address) && familyOf(l.address) === family) score = 2
      else if (family === "IPv4" && l.dualStack) score = 1
      if (score === 0) continue
      if (score > best) {
        best = score
        candidates.length = 0
      }
      if (score === best) candidates.push(l)
    }
    if (candidates.length === 0) return undefined
    return candidates[this.roundRobin++ % candidates.length]
  }

  // -- connect --------------------------------------------------------------

  connect(
    target: ConnectTarget,
    callback: (error: DriverError | undefined, handle: Handle | undefined) => void
  ): PendingConnect {
    let done = false
    let cancelStep: () => void = () => {}
    let established: Conn | undefined = undefined
    // a kernel binds the local port when connect(2) is called: reserved at once, released if no connection takes it
    let reserved: Endpoint | undefined = undefined
    // whether this attempt took the port (a given localPort may already be another socket's)
    let owned = false
    const release = () => {
      if (reserved?._tag === "Tcp" && owned && established === undefined) {
        const port = reserved.port
        if (!this.tcpListeners.some((l) => l.port === port)) this.usedPorts.delete(port)
      }
      reserved = undefined
    }
    // while a step waits for the clock: what it waits for, and the stall watch's remover
    let waitingFor = ""
    let unwatch: (() => void) | undefined
    const where = target._tag === "Ipc"
      ? target.path
      : format({ _tag: "Tcp", address: target.address, port: target.port, family: familyOf(target.address) })
    const entry = {
      // the dialing host (partition key), once known: a crash of that host cancels the attempt
      host: undefined as string | undefined,
      cancel: () => {
        if (done) return
        done = true
        this.pendingConnects.delete(entry)
        release()
        unwatch?.()
        cancelStep()
        // the handshake completed but nobody took the socket: close it, the server sees FIN
        established?.client.close(() => {})
      }
    }
    this.pendingConnects.add(entry)
    const finish = (e: DriverError | undefined, handle: Handle | undefined) => {
      if (done) {
        handle?.close(() => {})
        return
      }
      done = true
      this.pendingConnects.delete(entry)
      release()
      unwatch?.()
      callback(e, handle)
    }
    /** The next step of the handshake, after `ms` of the network's time spent on `why`. */
    const step = (ms: number, why: string, f: () => void): void => {
      cancelStep = this.after(ms, f)
      if (ms <= 0 || this.stall === undefined) return
      waitingFor = `a connect to ${where} waits for ${why}`
      unwatch ??= this.stall.watch({
        describe: () => waitingFor,
        stalled: (message) => {
          unwatch = undefined
          cancelStep()
          const address = target._tag === "Ipc" ? target.path : target.address
          const port = target._tag === "Ipc" ? undefined : target.port
          finish({ ...error("ETIMEDOUT", "connect", address, port), cause: message }, undefined)
        }
      })
    }
    const out = (ms: number) => `${ms} ms of latency to the listener (a latency fault)`
    const back = (ms: number) => `${ms} ms of latency back from the listener (a latency fault)`
    const pending = Object.assign(entry.cancel, { local: () => reserved })
    if (target._tag === "Ipc") {
      const path = target.path
      const rules = this.rulesFor({ host: undefined, port: undefined, path }, undefined)
      const up = linkOf(rules, "toServer")
      const down = linkOf(rules, "toClient")
      step(up.latency, out(up.latency), () => {
        const listener = this.ipcListeners.get(path)
        const refuse = rules.some((r) => r.refuse === true)
        if (listener === undefined || refuse) {
          const code = listener === undefined ? connectFailure(this.paths, path) : "ECONNREFUSED"
          return step(down.latency, back(down.latency), () => finish(error(code, "connect", path), undefined))
        }
        if (listener.full()) {
          return step(down.latency, back(down.latency), () => finish(error("EAGAIN", "connect", path), undefined))
        }
        const local: Endpoint = { _tag: "Ipc", path }
        const conn = new Conn(
          this,
          `c${this.nextId++}`,
          { clientLocal: local, clientRemote: local, serverLocal: local, serverRemote: local },
          { up, down },
          { client: undefined, server: undefined }
        )
        this.connections.add(conn)
        established = conn
        this.record(`${conn.id} connect ${path}`)
        listener.enqueue(conn)
        step(down.latency, back(down.latency), () => finish(undefined, conn.client))
      })
      return pending
    }

    // TCP
    const dst = target.address === "0.0.0.0" ? "127.0.0.1" : target.address === "::" ? "::1" : target.address
    const port = target.port
    const src = target.localAddress ?? dst
    const dstKey = hostKey(dst)
    const srcKey = hostKey(src)
    entry.host = srcKey
    if (this.deadHosts.has(srcKey)) {
      // a crashed host's process dials nothing
      cancelStep = this.after(0, () => finish(error("ENETDOWN", "connect", dst, port), undefined))
      return pending
    }
    const rules = this.rulesFor({ host: dstKey, port, path: undefined }, srcKey)
    const up = linkOf(rules, "toServer")
    const down = linkOf(rules, "toClient")
    // a bind that fails is reported at once, before any dial (as node's bind(2) inside connect)
    if (target.localAddress !== undefined && familyOf(target.localAddress) !== familyOf(dst)) {
      // a socket of the target's family cannot bind an address of the other one
      const localPort = target.localPort === 0 ? undefined : target.localPort
      finish(error("EINVAL", "bind", target.localAddress, localPort), undefined)
      return pending
    }
    if (target.localPort !== undefined && target.localPort !== 0 && this.findListener(src, target.localPort)) {
      finish(error("EADDRINUSE", "bind", src, target.localPort), undefined)
      return pending
    }
    const syn = (attempt: number): void => {
      if (this.partitioned(srcKey, dstKey)) {
        // the SYN is lost: retry like a kernel, then give up
        const wait = SYN_RETRIES[attempt]
        if (wait === undefined) return finish(error("ETIMEDOUT", "connect", dst, port), undefined)
        step(wait, `the SYN's retransmission in ${wait} ms (a partition cuts the link)`, () => syn(attempt + 1))
        return
      }
      const listener = this.findListener(dst, port)
      if (listener === undefined || rules.some((r) => r.refuse === true)) {
        this.record(`connect ${dst}:${port} refused`)
        step(down.latency, back(down.latency), () => finish(error("ECONNREFUSED", "connect", dst, port), undefined))
        return
      }
      if (listener.full()) {
        const wait = SYN_RETRIES[attempt]
        if (wait === undefined) return finish(error("ETIMEDOUT", "connect", dst, port), undefined)
        this.record(`connect ${dst}:${port} backlog full`)
        step(wait, `the SYN's retransmission in ${wait} ms (the listener's backlog is full)`, () => syn(attempt + 1))
        return
      }
      const localPort = reserved?._tag === "Tcp" ? reserved.port : undefined
      if (localPort === undefined) {
        return finish(error("EADDRNOTAVAIL", "connect", dst, port), undefined)
      }
      const family = familyOf(dst)
      const mapped = family === "IPv4" && familyOf(listener.address) === "IPv6"
      const serverFamily: Family = mapped ? "IPv6" : family
      const v6 = (a: string) => (mapped ? `::ffff:${a}` : a)
      const conn = new Conn(
        this,
        `c${this.nextId++}`,
        {
          clientLocal: { _tag: "Tcp", address: src, port: localPort, family: familyOf(src) },
          clientRemote: { _tag: "Tcp", address: dst, port, family },
          serverLocal: { _tag: "Tcp", address: v6(dst), port, family: serverFamily },
          serverRemote: { _tag: "Tcp", address: v6(src), port: localPort, family: serverFamily }
        },
        { up, down },
        { client: srcKey, server: dstKey }
      )
      this.usedPorts.add(localPort)
      this.connections.add(conn)
      established = conn
      this.record(`${conn.id} connect ${format(conn.client.local)} -> ${format(conn.client.remote)}`)
      listener.enqueue(conn)
      step(down.latency, back(down.latency), () => finish(undefined, conn.client))
    }
    const chosen = target.localPort !== undefined && target.localPort !== 0 ? target.localPort : this.ephemeralPort()
    if (chosen !== undefined) {
      reserved = { _tag: "Tcp", address: src, port: chosen, family: familyOf(src) }
      owned = !this.usedPorts.has(chosen)
      this.usedPorts.add(chosen)
    }
    step(up.latency, out(up.latency), () => syn(0))
    return pending
  }

  // -- lookup ---------------------------------------------------------------

  lookup(
    hostname: string,
    options: LookupOptions,
    callback: (error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) => void
  ): () => void {
    const literal = isIP(hostname)
    const all: ReadonlyArray<LookupAddress> = literal !== 0
      ? [{ address: hostname, family: literal }]
      : this.hosts.get(hostname.toLowerCase()) ?? []
    const found = options.family === 0 ? all : all.filter((a) => a.family === options.family)
    return this.after(0, () => {
      if (found.length === 0) callback(error("ENOTFOUND", "getaddrinfo", hostname), [])
      else callback(undefined, options.all ? found : [found[0]!])
    })
  }

  // -- faults and inspection ------------------------------------------------

  /**
   * A host's process crashes: its listeners and connection ends vanish
   * without FIN or RST (their accept queues and unsent bytes with them), its
   * connects in progress are dropped, and until `reviveHost` it can neither
   * dial nor listen. The host itself stays up, as after a process crash (or a
   * reboot faster than anyone notices): a segment that reaches a vanished end
   * (bytes in flight, the peer's next write) is answered with RST, a connect
   * to a port it listened on is refused, and a peer that sends nothing hears
   * nothing. Bytes already on the wire from the host still arrive. Returns
   * how many listeners and connection ends vanished.
   */
  killHost(host: string): number {
    const keys = this.keysOf(host)
    let vanished = 0
    this.record(`kill ${host}`)
    for (const key of keys) this.deadHosts.add(key)
    // copies: vanishing removes from these collections
    for (const l of Array.from(this.tcpListeners)) {
      if (!keys.includes(hostKey(l.address))) continue
      vanished++
      l.vanish()
    }
    for (const conn of Array.from(this.connections)) {
      for (const end of [conn.client, conn.server]) {
        const key = end === conn.client ? conn.clientHost : conn.serverHost
        if (key === undefined || !keys.includes(key) || end.released) continue
        vanished++
        end.vanish()
      }
    }
    // after the ends: a handshake that completed unclaimed has vanished, its cancel sends nothing
    for (const pending of Array.from(this.pendingConnects)) {
      if (pending.host !== undefined && keys.includes(pending.host)) pending.cancel()
    }
    return vanished
  }

  /** A crashed host's process starts again: it may dial and listen. */
  reviveHost(host: string): void {
    for (const key of this.keysOf(host)) this.deadHosts.delete(key)
    this.record(`revive ${host}`)
  }

  /** Cancels every pending timer-driven step (the network is being discarded). */
  dispose(): void {
    for (const pending of this.pendingConnects) pending.cancel()
    this.pendingConnects.clear()
    for (const conn of this.connections) {
      for (const pipe of [conn.up, conn.down]) {
        pipe.cancelTimer()
        pipe.cancelRetransmission()
      }
    }
  }
}
