/**
 * `socket.connect()` to a host and port as `lib/net.js` runs it
 * (`lookupAndConnect`, `lookupAndConnectMultiple`): the options checked by
 * Node's validators in Node's order, the name looked up through the `lookup`
 * option or `dns.lookup`, and each answer handled as Node handles it — the
 * `'lookup'` events, the checks of the address and family a custom lookup
 * returns (including the `TypeError`s a malformed answer raises), a second
 * answer on the same socket — before the socket dials through the engine.
 *
 * @internal
 */
import type { LookupAddress } from "@sluice/core/Driver"
import { ERR_INVALID_ADDRESS_FAMILY, ERR_INVALID_ARG_TYPE, ERR_INVALID_IP_ADDRESS } from "../errors.ts"
import type { Socket } from "../Socket.ts"
import { ADDRCONFIG, driverLookup } from "./lookup.ts"
import type { Lookup, LookupCallback } from "./lookup.ts"
import * as Validate from "./validate.ts"

/** The options `connect` reads for a host and port (any value may arrive). */
export interface ConnectOptions {
  readonly host?: unknown
  readonly port?: unknown
  readonly localAddress?: unknown
  readonly localPort?: unknown
  readonly family?: unknown
  readonly hints?: unknown
  readonly lookup?: unknown
  readonly autoSelectFamily?: unknown
  readonly autoSelectFamilyAttemptTimeout?: unknown
}

/** The process-wide `autoSelectFamily` defaults (`net.setDefaultAutoSelectFamily*`). */
export interface AutoSelectDefaults {
  family: boolean
  attemptTimeout: number
}

const socketToDnsFamily = (family: unknown): unknown => {
  switch (family) {
    case "IPv4":
      return 4
    case "IPv6":
      return 6
  }
  return family
}

const connectErrorNT = (self: Socket, err: unknown): void => {
  self.destroy(err as Error)
}

/**
 * Node's `lookupAndConnect(self, options)`: throws what Node throws, in its
 * order; an IP address is dialled on the next tick, a name after its lookup.
 */
export const lookupAndConnect = (self: Socket, options: ConnectOptions, defaults: AutoSelectDefaults): void => {
  const { localAddress, localPort } = options
  const host = options.host || "localhost"
  let { port, autoSelectFamilyAttemptTimeout, autoSelectFamily } = options

  Validate.validateStringWithoutNullBytes(host, "options.host")

  if (localAddress && !Validate.isIP(localAddress)) throw ERR_INVALID_IP_ADDRESS(localAddress)
  if (localPort) Validate.validateNumber(localPort, "options.localPort")
  if (port !== undefined) {
    if (typeof port !== "number" && typeof port !== "string") {
      throw ERR_INVALID_ARG_TYPE("options.port", ["number", "string"], port)
    }
    Validate.validatePort(port)
  }
  port = (port as number) | 0

  if (autoSelectFamily != null) Validate.validateBoolean(autoSelectFamily, "options.autoSelectFamily")
  else autoSelectFamily = defaults.family

  if (autoSelectFamilyAttemptTimeout != null) {
    Validate.validateInt32(autoSelectFamilyAttemptTimeout, "options.autoSelectFamilyAttemptTimeout", 1)
    if (autoSelectFamilyAttemptTimeout < 10) autoSelectFamilyAttemptTimeout = 10
  } else autoSelectFamilyAttemptTimeout = defaults.attemptTimeout

  const dialPort = port as number
  const local = localAddress as string | undefined
  const localP = localPort as number | undefined
  const timeout = autoSelectFamilyAttemptTimeout as number

  // an IP address needs no lookup
  const addressType = Validate.isIP(host)
  if (addressType) {
    process.nextTick(() => {
      if (self.connecting) self._internalConnect(host, dialPort, addressType, local, localP)
    })
    return
  }

  if (options.lookup != null) Validate.validateFunction(options.lookup, "options.lookup")

  const dnsopts: Record<string, unknown> = {
    family: socketToDnsFamily(options.family),
    hints: options.hints || 0
  }
  if (ADDRCONFIG !== 0 && dnsopts["family"] !== 4 && dnsopts["family"] !== 6 && dnsopts["hints"] === 0) {
    dnsopts["hints"] = ADDRCONFIG
  }
  self._host = host
  const lookup = (options.lookup as Lookup | undefined) || driverLookup(self.driver)

  if (dnsopts["family"] !== 4 && dnsopts["family"] !== 6 && !localAddress && autoSelectFamily) {
    dnsopts["all"] = true
    lookup(host, dnsopts, emitLookupMultiple(self, host, options, dialPort, local, localP, timeout))
    return
  }

  lookup(host, dnsopts, function emitLookup(err, ip, addressType) {
    self.emit("lookup", err, ip, addressType, host)
    // it's possible we were destroyed while looking this up
    if (!self.connecting) return
    if (err) {
      // there are no listeners yet when `net.connect` looks up at once: the error waits a tick
      process.nextTick(connectErrorNT, self, err)
    } else if (typeof ip !== "string" || !Validate.isIP(ip)) {
      process.nextTick(connectErrorNT, self, ERR_INVALID_IP_ADDRESS(ip))
    } else if (addressType !== 4 && addressType !== 6) {
      process.nextTick(connectErrorNT, self, ERR_INVALID_ADDRESS_FAMILY(addressType, options.host, options.port))
    } else {
      self._unrefTimer()
      self._internalConnect(ip, dialPort, addressType, local, localP)
    }
  })
}

/**
 * Node's answer handler of `lookupAndConnectMultiple`, written as Node's (a
 * malformed answer fails the way it fails there, down to the `TypeError`).
 */
const emitLookupMultiple = (
  self: Socket,
  host: string,
  options: ConnectOptions,
  port: number,
  localAddress: string | undefined,
  localPort: number | undefined,
  timeout: number
): LookupCallback =>
  function emitLookup(err, answer) {
    const addresses = answer as ArrayLike<{ address: unknown; family: unknown }>
    // it's possible we were destroyed while looking this up
    if (!self.connecting) return
    else if (err) {
      self.emit("lookup", err, undefined, undefined, host)
      process.nextTick(connectErrorNT, self, err)
      return
    }
    // only IPv4 and IPv6 answers are kept; the first valid one decides which family goes first
    const validAddresses: [Array<LookupAddress>, Array<LookupAddress>] = [[], []]
    const validIps: [Array<unknown>, Array<unknown>] = [[], []]
    let destinations: Record<4 | 6, 0 | 1> | undefined
    for (let i = 0, l = addresses.length; i < l; i++) {
      const address = addresses[i]!
      const { address: ip, family: addressType } = address
      self.emit("lookup", err, ip, addressType, host)
      if (!self.connecting) return
      if (Validate.isIP(ip) && (addressType === 4 || addressType === 6)) {
        destinations ||= addressType === 6 ? { 6: 0, 4: 1 } : { 4: 0, 6: 1 }
        const destination = destinations[addressType]
        // only try an address once
        if (!validIps[destination].includes(ip)) {
          validAddresses[destination].push({ address: ip as string, family: addressType })
          validIps[destination].push(ip)
        }
      }
    }
    // when no A or AAAA record is usable, fail on the first one
    if (!validAddresses[0].length && !validAddresses[1].length) {
      const { address: firstIp, family: firstAddressType } = addresses[0]!
      if (!Validate.isIP(firstIp)) {
        process.nextTick(connectErrorNT, self, ERR_INVALID_IP_ADDRESS(firstIp))
      } else if (firstAddressType !== 4 && firstAddressType !== 6) {
        process.nextTick(
          connectErrorNT,
          self,
          ERR_INVALID_ADDRESS_FAMILY(firstAddressType, options.host, options.port)
        )
      }
      return
    }
    // the families alternate
    const toAttempt: Array<LookupAddress> = []
    for (let i = 0, l = Math.max(validAddresses[0].length, validAddresses[1].length); i < l; i++) {
      if (i in validAddresses[0]) toAttempt.push(validAddresses[0][i]!)
      if (i in validAddresses[1]) toAttempt.push(validAddresses[1][i]!)
    }
    if (toAttempt.length === 1) {
      const { address: ip, family: addressType } = toAttempt[0]!
      self._unrefTimer()
      self._internalConnect(ip, port, addressType, localAddress, localPort)
      return
    }
    self.autoSelectFamilyAttemptedAddresses = []
    self._unrefTimer()
    self._internalConnectMultiple(toAttempt, port, localPort, timeout)
  }
