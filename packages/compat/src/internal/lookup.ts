/**
 * Name lookups as `node:net` makes them: `dns.lookup(hostname, options,
 * callback)` — its option checks in its order, its answer shapes, its errors —
 * over a driver's lookup. `connect` and `listen` use it where Node calls
 * `dns.lookup`; a `lookup` option given to `connect` is called instead, as in
 * Node.
 */
import type { Driver } from "@sluice/core/Driver"
import { dnsException, ERR_INVALID_ARG_VALUE } from "../errors.ts"
import * as Validate from "./validate.ts"

/** What a lookup answers: `(err, address, family)`, or `(err, addresses)` with `all`. */
export type LookupCallback = (err: unknown, address?: unknown, family?: unknown) => void

/** A function with `dns.lookup`'s shape. */
export type Lookup = (hostname: string, options: Record<string, unknown>, callback: LookupCallback) => void

/** `dns.ADDRCONFIG`, `dns.V4MAPPED`, `dns.ALL` (getaddrinfo's flags, which differ between platforms). */
const flags = process.platform === "linux"
  ? { ADDRCONFIG: 32, V4MAPPED: 8, ALL: 16 }
  : { ADDRCONFIG: 1024, V4MAPPED: 2048, ALL: 256 }

/** The hints `connect` adds when it gives no family (Node does not on Windows). */
export const ADDRCONFIG = process.platform === "win32" ? 0 : flags.ADDRCONFIG

/** `validateHints` of `lib/internal/dns/utils.js`, with the flags the driver's lookup knows where it says. */
const validateHints = (driver: Driver, hints: number): void => {
  const known = driver.capabilities.lookupHints ?? (flags.ADDRCONFIG | flags.ALL | flags.V4MAPPED)
  if ((hints & ~known) !== 0) throw ERR_INVALID_ARG_VALUE("hints", hints)
}

/**
 * `dns.lookup` over `driver.lookup`: the options are checked as `dns.lookup`
 * checks them (synchronously: a bad `family` or `hints` throws from the call
 * that looks up), an IP address answers itself on the next tick, and a failure
 * is the driver's own error when it has one (the node driver's is
 * `dns.lookup`'s), else a `getaddrinfo` `DNSException`.
 */
export const driverLookup = (driver: Driver): Lookup => (hostname, options, callback) => {
  if (hostname) Validate.validateStringWithoutNullBytes(hostname, "hostname")
  let hints = 0
  let family: 0 | 4 | 6 = 0
  let all = false
  if (options?.["hints"] != null) {
    Validate.validateNumber(options["hints"], "options.hints")
    hints = options["hints"] >>> 0
    validateHints(driver, hints)
  }
  const f = options?.["family"]
  if (f != null) {
    if (f === "IPv4") family = 4
    else if (f === "IPv6") family = 6
    else {
      Validate.validateOneOf(f, "options.family", [0, 4, 6])
      // coerces -0 to +0, as Node's
      family = (f + 0) as 0 | 4 | 6
    }
  }
  if (options?.["all"] != null) {
    Validate.validateBoolean(options["all"], "options.all")
    all = options["all"]
  }
  const literal = Validate.isIP(hostname)
  if (literal !== 0) {
    if (all) process.nextTick(callback, null, [{ address: hostname, family: literal }])
    else process.nextTick(callback, null, hostname, literal)
    return
  }
  driver.lookup(hostname, { family, hints, all }, (error, addresses) => {
    const first = addresses[0]
    if (error !== undefined || first === undefined) {
      const e = error ?? { code: "ENOTFOUND", syscall: "getaddrinfo" }
      callback(e.cause instanceof Error ? e.cause : dnsException(e, hostname))
      return
    }
    if (all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })))
    else callback(null, first.address, first.family)
  })
}
