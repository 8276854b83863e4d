/**
 * Address helpers of the memory network: wildcards, families, the key
 * partitions and fault rules match on.
 *
 * @internal
 */
import { isIP } from "../../Address.ts"
import type { Family } from "../../Driver.ts"

export const unspecified = (address: string): boolean => address === "0.0.0.0" || address === "::"

/** Strips an IPv4-mapped prefix and lower-cases: the key under which partitions and rules match. */
export const hostKey = (address: string): string => {
  const a = address.toLowerCase()
  return a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a
}

export const familyOf = (address: string): Family => (isIP(address) === 6 ? "IPv6" : "IPv4")
