/**
 * A host's view of the shared memory network: a driver that dials from the
 * host's own address and listens on it, and refuses everything once the
 * process incarnation it was made for is gone (killed, or replaced by a
 * restart), so a crashed process's teardown cannot reach the network.
 *
 * @internal
 */
import type { Driver, DriverError, ListenTarget, PendingConnect } from "@sluice/core/Driver"
import { errnoTable } from "@sluice/core/Errno"

const driverError = (code: string, syscall: string, address: string, port: number | undefined): DriverError => {
  const entry = errnoTable[code]
  return {
    code,
    errno: entry?.[0],
    syscall,
    address,
    port: port === 0 ? undefined : port,
    cause: `${syscall} ${code} (${entry?.[1] ?? code}): this host's process is gone`
  }
}

/** Addresses that mean "this host" to a process on it. */
const isLocal = (host: string | undefined): boolean =>
  host === undefined || host === "::" || host === "0.0.0.0" || host === "localhost" || host === "::1"
  || host.startsWith("127.0.0.")

/**
 * The driver of one incarnation of a host's processes: connects leave from
 * `address` (a loopback target means the host itself), listeners bind
 * `address` (an unspecified or loopback host means the host itself).
 * `live()` false: connects fail with `ENETDOWN`, listens with
 * `EADDRNOTAVAIL`, on a later turn.
 */
export const hostDriver = (memory: Driver, address: string, live: () => boolean): Driver => {
  const later = (f: () => void): PendingConnect => memory.timers.schedule(0, f)
  return {
    name: memory.name,
    capabilities: memory.capabilities,
    timers: memory.timers,
    lookup: (hostname, options, callback) => memory.lookup(hostname, options, callback),
    connect: (target, callback) => {
      if (target._tag !== "Tcp") return memory.connect(target, callback)
      const to = isLocal(target.address) ? address : target.address
      if (!live()) return later(() => callback(driverError("ENETDOWN", "connect", to, target.port), undefined))
      return memory.connect(
        {
          ...target,
          address: to,
          family: to === target.address ? target.family : 4,
          localAddress: target.localAddress ?? address
        },
        callback
      )
    },
    listen: (target, events, callback) => {
      const bound: ListenTarget = target._tag === "Tcp" && isLocal(target.host) ? { ...target, host: address } : target
      if (!live()) {
        const port = bound._tag === "Tcp" ? bound.port : undefined
        const at = bound._tag === "Tcp" ? address : bound._tag === "Ipc" ? bound.path : `fd ${bound.fd}`
        later(() => callback(driverError("EADDRNOTAVAIL", "listen", at, port), undefined))
        return
      }
      memory.listen(bound, events, callback)
    }
  }
}
