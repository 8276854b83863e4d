/**
 * Promise helpers over a raw driver, for the memory network's kernel-level tests.
 */
import type { ConnectTarget, Driver, DriverError, Handle, ListenerHandle, ListenTarget } from "@sluice/core/Driver"

export const tcp = (host: string | undefined, port: number, backlog = 511): ListenTarget => ({
  _tag: "Tcp",
  host,
  port,
  backlog,
  exclusive: false,
  ipv6Only: false,
  reusePort: false
})

export const ipc = (path: string, backlog = 511): ListenTarget => ({
  _tag: "Ipc",
  path,
  backlog,
  exclusive: false,
  readableAll: false,
  writableAll: false
})

export const to = (address: string, port: number): ConnectTarget => ({
  _tag: "Tcp",
  address,
  port,
  family: address.includes(":") ? 6 : 4
})

export interface Listening {
  readonly listener: ListenerHandle
  readonly port: number
  /** The next accepted handle (in order). */
  readonly next: () => Promise<Handle>
  readonly accepted: Array<Handle>
  readonly close: () => Promise<void>
}

export const listen = (driver: Driver, target: ListenTarget): Promise<Listening> =>
  new Promise((resolve, reject) => {
    const accepted: Array<Handle> = []
    const waiters: Array<(h: Handle) => void> = []
    let taken = 0
    driver.listen(target, {
      onConnection: (handle) => {
        accepted.push(handle)
        const w = waiters.shift()
        if (w !== undefined) {
          taken++
          w(handle)
        }
      },
      onError: () => {}
    }, (error, listener) => {
      if (error !== undefined || listener === undefined) return reject(error)
      const e = listener.endpoint()
      resolve({
        listener,
        port: e._tag === "Tcp" ? e.port : 0,
        accepted,
        next: () =>
          new Promise((r) => {
            if (taken < accepted.length) r(accepted[taken++]!)
            else waiters.push(r)
          }),
        close: () => new Promise((r) => listener.close(r))
      })
    })
  })

export const dial = (driver: Driver, target: ConnectTarget): Promise<Handle> =>
  new Promise((resolve, reject) => {
    driver.connect(target, (error, handle) => {
      if (error !== undefined || handle === undefined) reject(error)
      else resolve(handle)
    })
  })

export const dialError = (driver: Driver, target: ConnectTarget): Promise<DriverError> =>
  dial(driver, target).then(
    (h) => {
      h.close(() => {})
      throw new Error("connected")
    },
    (e: DriverError) => e
  )

/** Binds a handle and records its events. */
export class Recorder {
  readonly events: Array<string> = []
  readonly errors: Array<DriverError> = []
  private bytes: Array<Uint8Array> = []
  private watchers: Array<() => void> = []
  readonly handle: Handle
  constructor(handle: Handle, start = true) {
    this.handle = handle
    handle.bind({
      onData: (chunk, borrowed) => {
        this.bytes.push(borrowed === true ? chunk.slice() : chunk)
        this.events.push(`data ${chunk.length}`)
        this.notify()
      },
      onEnd: () => {
        this.events.push("end")
        this.notify()
      },
      onError: (error) => {
        this.errors.push(error)
        this.events.push(`error ${error.code} ${error.syscall}`)
        this.notify()
      }
    })
    if (start) handle.readStart()
  }
  private notify(): void {
    for (const w of this.watchers.splice(0)) w()
  }
  get text(): string {
    return new TextDecoder().decode(concat(this.bytes))
  }
  get received(): number {
    return this.bytes.reduce((n, b) => n + b.length, 0)
  }
  /** Resolves once `predicate` holds (checked after each event). */
  until(predicate: (r: Recorder) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (predicate(this) ? resolve() : this.watchers.push(check))
      check()
    })
  }
}

export const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}

export const write = (handle: Handle, data: string | Uint8Array): Promise<DriverError | undefined> =>
  new Promise((resolve) =>
    handle.write([typeof data === "string" ? new TextEncoder().encode(data) : data], (e) => resolve(e))
  )

export const closed = (handle: Handle): Promise<void> => new Promise((r) => handle.close(r))

/** Lets queued deliveries run (a few event-loop turns). */
export const settle = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0))
}
