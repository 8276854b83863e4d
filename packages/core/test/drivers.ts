/**
 * The drivers the behaviour suite runs on. A behaviour that differs between
 * them is a bug in one of them.
 *
 * `SLUICE_DRIVERS` (a comma-separated list of names) keeps only those: the
 * runs on Bun and Deno (`packages/node-adapter/test/Runtimes.test.ts`) keep
 * the real-socket drivers, and say the runtime they expect in
 * `SLUICE_RUNTIME` (`bun`, `deno`), which this module checks.
 */
import type { Driver } from "@sluice/core/Driver"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import { driver as nodeDriver, netSocketDriver, paths } from "@sluice/node-adapter/NodeDriver"

export interface DriverCase {
  readonly name: string
  /** A fresh driver (an isolated network, for the memory driver). */
  readonly make: () => Driver
  /** The host to listen on and dial. */
  readonly host: string
}

const runtime = process.env["SLUICE_RUNTIME"]
if (runtime !== undefined && (process.versions as Record<string, string | undefined>)[runtime] === undefined) {
  throw new Error(`SLUICE_RUNTIME=${runtime}, but this process runs on ${JSON.stringify(process.versions)}`)
}

const all: ReadonlyArray<DriverCase> = [
  // over libuv handles; where they are not reachable (Bun, Deno) it is the net.Socket driver, listed next
  ...(nodeDriver === netSocketDriver ? [] : [{ name: "node", make: () => nodeDriver, host: "127.0.0.1" }]),
  // the node driver where libuv handles are not reachable: a net.Socket under every connection
  { name: "node (net.Socket)", make: () => netSocketDriver, host: "127.0.0.1" },
  // local socket paths answered from this host's file system, as real sockets find them
  { name: "memory", make: () => MemoryNetwork.make({ paths }).driver, host: "127.0.0.1" }
]

const only = process.env["SLUICE_DRIVERS"]?.split(",").map((s) => s.trim())

export const drivers: ReadonlyArray<DriverCase> = only === undefined ? all : all.filter((d) => only.includes(d.name))
