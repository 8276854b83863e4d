/**
 * The drivers the behaviour suite runs on. A behaviour that differs between
 * them is a bug in one of them.
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

export const drivers: ReadonlyArray<DriverCase> = [
  { name: "node", make: () => nodeDriver, host: "127.0.0.1" },
  // the node driver where libuv handles are not reachable: a net.Socket under every connection
  { name: "node (net.Socket)", make: () => netSocketDriver, host: "127.0.0.1" },
  // local socket paths answered from this host's file system, as real sockets find them
  { name: "memory", make: () => MemoryNetwork.make({ paths }).driver, host: "127.0.0.1" }
]
