/**
 * Helpers of the behaviour suite: driver wrappers that record what the
 * engine asks of a driver (and what it leaves open), and small utilities.
 */
import type {
  ConnectTarget,
  Driver,
  DriverError,
  Endpoint,
  Handle,
  ListenerHandle,
  ListenTarget
} from "@sluice/core/Driver"
import * as Network from "@sluice/core/Network"
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** Runs a test body in its own scope with `Network` over `driver`. */
export const run = <A, E>(driver: Driver, effect: Effect.Effect<A, E, Network.Network | Scope.Scope>) =>
  Effect.provide(Effect.scoped(effect), Network.layer(driver))

const decoder = new TextDecoder()

export const text = (chunks: Iterable<Uint8Array>): string => {
  let out = ""
  for (const c of chunks) out += decoder.decode(c, { stream: true })
  return out
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

export const tcpPort = (endpoint: Endpoint | undefined): number => {
  if (endpoint === undefined || endpoint._tag !== "Tcp") {
    throw new Error(`expected a TCP endpoint, got ${JSON.stringify(endpoint)}`)
  }
  return endpoint.port
}

/** A fresh IPC path in a fresh temp directory (removed at process exit). */
let tempDir: string | undefined
let counter = 0
export const ipcPath = (name = "sock"): string => {
  if (tempDir === undefined) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-test-"))
    const dir = tempDir
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  }
  return path.join(tempDir, `${name}-${process.pid}-${counter++}`)
}

/**
 * Whether this runtime's node:net applies `ipv6Only` (Deno's does not): with
 * it, a listener on `::` leaves the IPv4 wildcard of its port free.
 */
export const nodeNetAppliesIpv6Only = (): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const v6 = net.createServer()
    v6.once("error", reject)
    v6.listen({ host: "::", port: 0, ipv6Only: true }, () => {
      const v4 = net.createServer()
      const done = (applies: boolean) => v6.close(() => resolve(applies))
      v4.once("error", (error: NodeJS.ErrnoException) => done(error.code !== "EADDRINUSE"))
      v4.listen({ host: "0.0.0.0", port: (v6.address() as net.AddressInfo).port }, () => v4.close(() => done(true)))
    })
  })

/** `n` bytes of a repeating pattern. */
export const pattern = (n: number, seed = 0): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i + seed) & 0xff
  return out
}

export interface HandleLog {
  readonly side: "client" | "server"
  noDelay: Array<boolean>
  keepAlive: Array<readonly [boolean, number]>
  resets: number
  closes: number
}

export interface Tracked {
  readonly driver: Driver
  /** Handles opened (connected or accepted) and not yet closed or reset. */
  readonly open: () => number
  readonly connects: Array<ConnectTarget>
  readonly listens: Array<ListenTarget>
  readonly handles: Array<HandleLog>
  /** Listeners bound and not yet closed. */
  readonly listening: () => number
}

/**
 * Wraps a driver to record connect and listen targets, socket options set on
 * handles, and which handles and listeners are still open.
 */
export const tracked = (inner: Driver): Tracked => {
  let open = 0
  let listening = 0
  const connects: Array<ConnectTarget> = []
  const listens: Array<ListenTarget> = []
  const handles: Array<HandleLog> = []
  const wrap = (h: Handle, side: "client" | "server"): Handle => {
    open++
    let released = false
    const release = () => {
      if (!released) {
        released = true
        open--
      }
    }
    const log: HandleLog = { side, noDelay: [], keepAlive: [], resets: 0, closes: 0 }
    handles.push(log)
    return {
      bind: (events) => h.bind(events),
      borrowReads: () => h.borrowReads?.(),
      readStart: () => h.readStart(),
      readStop: () => h.readStop(),
      write: (chunks, cb) => h.write(chunks, cb),
      get writeQueueSize() {
        return h.writeQueueSize
      },
      shutdown: (cb) => h.shutdown(cb),
      close: (cb) => {
        log.closes++
        release()
        h.close(cb)
      },
      reset: (cb) => {
        log.resets++
        release()
        h.reset(cb)
      },
      closing: (graceMs) => h.closing?.(graceMs),
      localEndpoint: () => h.localEndpoint(),
      remoteEndpoint: () => h.remoteEndpoint(),
      setNoDelay: (enable) => {
        log.noDelay.push(enable)
        h.setNoDelay(enable)
      },
      setKeepAlive: (enable, delay) => {
        log.keepAlive.push([enable, delay])
        h.setKeepAlive(enable, delay)
      },
      ref: () => h.ref(),
      unref: () => h.unref()
    }
  }
  const driver: Driver = {
    name: inner.name,
    capabilities: inner.capabilities,
    timers: inner.timers,
    lookup: (host, options, cb) => inner.lookup(host, options, cb),
    connect: (target, cb) => {
      connects.push(target)
      return inner.connect(
        target,
        (error, handle) => cb(error, handle === undefined ? undefined : wrap(handle, "client"))
      )
    },
    listen: (target, events, cb) => {
      listens.push(target)
      inner.listen(target, {
        onConnection: (handle) => events.onConnection(wrap(handle, "server")),
        onError: events.onError
      }, (error, listener) => {
        if (listener === undefined) return cb(error, undefined)
        listening++
        let closed = false
        const wrapped: ListenerHandle = {
          endpoint: () => listener.endpoint(),
          close: (done) => {
            if (!closed) {
              closed = true
              listening--
            }
            listener.close(done)
          },
          ref: () => listener.ref(),
          unref: () => listener.unref()
        }
        cb(error, wrapped)
      })
    }
  }
  return { driver, open: () => open, connects, listens, handles, listening: () => listening }
}

/**
 * A blackhole: connect attempts to targets matching `hold` really connect
 * underneath, but the engine never hears back; cancelling the attempt closes
 * whatever was opened. `pending()` counts attempts neither delivered nor
 * cancelled.
 */
export const blackhole = (
  inner: Driver,
  hold: (target: ConnectTarget) => boolean
): { readonly driver: Driver; readonly pending: () => number; readonly cancelled: () => number } => {
  let pending = 0
  let cancelled = 0
  const driver: Driver = {
    ...inner,
    connect: (target, cb) => {
      if (!hold(target)) return inner.connect(target, cb)
      pending++
      let held: Handle | undefined
      let done = false
      const cancelInner = inner.connect(target, (_error, handle) => {
        if (done) {
          handle?.close(() => {})
          return
        }
        held = handle
      })
      return () => {
        if (done) return
        done = true
        pending--
        cancelled++
        cancelInner()
        held?.close(() => {})
      }
    }
  }
  return { driver, pending: () => pending, cancelled: () => cancelled }
}

/** A lookup that never answers; counts calls. */
export const silentLookup = () => {
  let calls = 0
  return {
    calls: () => calls,
    lookup: (_host: string, _options: unknown, _cb: (e: DriverError | undefined, a: ReadonlyArray<never>) => void) => {
      calls++
    }
  }
}

/** Waits (polling the event loop, not the clock) until `f()` holds, or fails after `ms`. */
export const eventually = (f: () => boolean, what: string, ms = 5000): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const start = Date.now()
    const tick = () => {
      if (f()) resume(Effect.void)
      else if (Date.now() - start > ms) resume(Effect.die(new Error(`timed out waiting for: ${what}`)))
      else setImmediate(tick)
    }
    tick()
  })

/** `n` recognisable bytes: byte i is (i + seed) % 251. */
export const bytes = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + seed) % 251)

/** A listening server, a client connected to it, and the server's end of that connection. */
export const connectedPair = (host: string, connect: Partial<Network.ConnectOptions> = {}) =>
  Effect.gen(function*() {
    const server = yield* Network.listen({ host, port: 0 })
    const client = yield* Network.connect({ host, port: tcpPort(server.address), ...connect })
    const peer = yield* Effect.map(Stream.runHead(server.accept), Option.getOrThrow)
    return { server, client, peer }
  })

/** A tracer that keeps every span it starts (their attributes, events and status). */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

export interface LogRecord {
  readonly level: string
  readonly message: string
  readonly cause: Cause.Cause<unknown>
}

/**
 * Records what is logged while `provide`d: it replaces the default console
 * logger (nothing is printed) and keeps the tracer's (logs stay span events).
 */
export const recordingLogger = () => {
  const logs: Array<LogRecord> = []
  const logger = Logger.make(({ cause, logLevel, message }) => {
    logs.push({ level: logLevel, message: Array.isArray(message) ? message.join(" ") : String(message), cause })
  })
  const loggers = new Set([logger, Logger.tracerLogger])
  const provide = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provideService(self, Logger.CurrentLoggers, loggers)
  return { logs, provide }
}

/** Waits (polling the event loop, as {@link eventually}) until `predicate` holds for `effect`'s value; returns it. */
export const waitFor = <A>(
  effect: Effect.Effect<A>,
  predicate: (a: A) => boolean,
  what: string,
  ms = 5000
): Effect.Effect<A> =>
  Effect.suspend(() => {
    let last: A | undefined
    return Effect.as(
      eventually(() => predicate(last = Effect.runSync(effect)), what, ms),
      Effect.sync(() => last as A)
    ).pipe(Effect.flatten)
  })
