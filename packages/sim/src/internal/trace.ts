/**
 * The simulation's event log: the memory network's trace lines and the
 * simulation's own fault events, stamped with virtual time and attributed to
 * the hosts they involve (addresses replaced by host names).
 *
 * @internal
 */

/** One event: when, which hosts it involves, what happened. */
export interface Entry {
  readonly at: number
  readonly hosts: ReadonlyArray<string>
  readonly text: string
}

const ADDRESS = /(?:::ffff:)?\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b/g
const CONNECTION = /^(c\d+) /

/** Collects entries. */
export class TraceLog {
  readonly entries: Array<Entry> = []
  private readonly connections = new Map<string, ReadonlyArray<string>>()
  private readonly hostOf: (address: string) => string | undefined
  private readonly everyHost: ReadonlyArray<string>

  /** `hostOf` names the host of an address; an event naming no host is every host's (`heal all`). */
  constructor(hostOf: (address: string) => string | undefined, everyHost: ReadonlyArray<string>) {
    this.hostOf = hostOf
    this.everyHost = everyHost
  }

  /** A line of the memory network's trace. */
  network(line: string, at: number): void {
    const hosts: Array<string> = []
    const text = line.replace(ADDRESS, (whole, address: string) => {
      const host = this.hostOf(address)
      if (host === undefined) return whole
      if (!hosts.includes(host)) hosts.push(host)
      return host
    })
    const id = CONNECTION.exec(line)?.[1]
    if (id !== undefined) {
      if (hosts.length > 0) this.connections.set(id, hosts)
      else hosts.push(...(this.connections.get(id) ?? []))
    } else if (hosts.length === 0) hosts.push(...this.everyHost)
    this.entries.push({ at, hosts, text })
  }

  /** An event of the simulation itself (a fault, a process starting or stopping). */
  event(text: string, hosts: ReadonlyArray<string>, at: number): void {
    this.entries.push({ at, hosts, text })
  }
}

const stamp = (entry: Entry): string => `${String(entry.at).padStart(9)}ms ${entry.text}`

/** Every entry, in order, one line each. */
export const lines = (entries: ReadonlyArray<Entry>): Array<string> => entries.map(stamp)

/** The entries involving `host`. */
export const linesOf = (entries: ReadonlyArray<Entry>, host: string): Array<string> =>
  entries.filter((e) => e.hosts.includes(host)).map(stamp)

/** A printable log per host: a heading per host, then its events. */
export const format = (entries: ReadonlyArray<Entry>, hosts: ReadonlyArray<readonly [string, string]>): string =>
  hosts.map(([name, address]) => [`== ${name} (${address})`, ...linesOf(entries, name)].join("\n")).join("\n\n")
  + "\n"
