/**
 * A bound memory listener: its accept queue (bounded by the backlog) and the
 * delivery of accepted connections.
 *
 * @internal
 */
import { format } from "../../Address.ts"
import type { Endpoint, ListenerEvents, ListenerHandle, ListenTarget } from "../../Driver.ts"
import type { Conn } from "./connection.ts"
import type { VirtualNetwork } from "./network.ts"

/** A bound listener. */
export class MemoryListener implements ListenerHandle {
  readonly net: VirtualNetwork
  readonly target: ListenTarget
  readonly local: Endpoint
  /** For TCP: the bound address, whether it takes IPv4 too, the port. */
  readonly address: string
  readonly port: number
  readonly dualStack: boolean
  readonly reusePort: boolean
  readonly backlog: number
  readonly events: ListenerEvents
  pending: Array<Conn> = []
  accepted = 0
  closed = false
  private scheduled = false

  constructor(
    net: VirtualNetwork,
    target: ListenTarget,
    local: Endpoint,
    events: ListenerEvents,
    options: { address: string; port: number; dualStack: boolean; reusePort: boolean; backlog: number }
  ) {
    this.net = net
    this.target = target
    this.local = local
    this.events = events
    this.address = options.address
    this.port = options.port
    this.dualStack = options.dualStack
    this.reusePort = options.reusePort
    this.backlog = options.backlog
  }

  /** Linux admits `backlog + 1` connections to the accept queue. */
  full(): boolean {
    return this.pending.length > this.backlog
  }

  enqueue(conn: Conn): void {
    this.pending.push(conn)
    if (!this.scheduled) {
      this.scheduled = true
      this.net.queue.post({ run: () => this.deliver() })
    }
  }

  private deliver(): void {
    this.scheduled = false
    const pending = this.pending.splice(0)
    for (const conn of pending) {
      if (this.closed) {
        conn.server.reset(() => {})
        continue
      }
      this.accepted++
      this.net.record(`${conn.id} accepted`)
      this.events.onConnection(conn.server)
    }
  }

  endpoint(): Endpoint {
    return this.local
  }

  /** The listening process crashed: unbound, its accept queue gone, nothing sent. */
  vanish(): void {
    if (this.closed) return
    this.closed = true
    this.net.unbind(this)
    this.net.record(`listener ${format(this.local)} vanished`)
    this.pending.length = 0
  }

  close(callback: () => void): void {
    if (!this.closed) {
      this.closed = true
      this.net.unbind(this)
      this.net.record(`listener ${format(this.local)} closed`)
      for (const conn of this.pending.splice(0)) conn.server.reset(() => {})
    }
    this.net.queue.post({ run: callback })
  }

  ref(): void {}

  unref(): void {}
}
