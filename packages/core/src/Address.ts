/**
 * IP address recognition and endpoint formatting, shared by both faces.
 *
 * @since 0.1.0
 */
import type { Endpoint } from "./Driver.ts"

const v4Seg = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
const v4Str = `(?:${v4Seg}\\.){3}${v4Seg}`
const IPv4Reg = new RegExp(`^${v4Str}$`)
const v6Seg = "(?:[0-9a-fA-F]{1,4})"
const IPv6Reg = new RegExp(
  "^(?:"
    + `(?:${v6Seg}:){7}(?:${v6Seg}|:)|`
    + `(?:${v6Seg}:){6}(?:${v4Str}|:${v6Seg}|:)|`
    + `(?:${v6Seg}:){5}(?::${v4Str}|(?::${v6Seg}){1,2}|:)|`
    + `(?:${v6Seg}:){4}(?:(?::${v6Seg}){0,1}:${v4Str}|(?::${v6Seg}){1,3}|:)|`
    + `(?:${v6Seg}:){3}(?:(?::${v6Seg}){0,2}:${v4Str}|(?::${v6Seg}){1,4}|:)|`
    + `(?:${v6Seg}:){2}(?:(?::${v6Seg}){0,3}:${v4Str}|(?::${v6Seg}){1,5}|:)|`
    + `(?:${v6Seg}:){1}(?:(?::${v6Seg}){0,4}:${v4Str}|(?::${v6Seg}){1,6}|:)|`
    + `(?::(?:(?::${v6Seg}){0,5}:${v4Str}|(?::${v6Seg}){1,7}|:))`
    + ")(?:%[0-9a-zA-Z-.:]{1,})?$"
)

/**
 * `true` when `input` is a dotted-quad IPv4 address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv4 = (input: string): boolean => IPv4Reg.test(input)

/**
 * `true` when `input` is an IPv6 address (an optional `%zone` suffix allowed).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv6 = (input: string): boolean => IPv6Reg.test(input)

/**
 * `4` for an IPv4 address, `6` for an IPv6 address, `0` otherwise.
 *
 * @example
 * ```ts
 * import { Address } from "@sluice/core"
 *
 * Address.isIP("::1") // 6
 * Address.isIP("localhost") // 0
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIP = (input: string): 0 | 4 | 6 => (isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0)

/**
 * Formats an endpoint for people: `127.0.0.1:80`, `[::1]:80`, or the IPC path.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (endpoint: Endpoint): string =>
  endpoint._tag === "Ipc"
    ? endpoint.path
    : endpoint.family === "IPv6"
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`

// ---------------------------------------------------------------------------
// addresses as numbers
// ---------------------------------------------------------------------------

const V4_MAPPED = 0xffffn << 32n
const ALL_ONES = (1n << 128n) - 1n

const v4Bits = (input: string): bigint => {
  let n = 0n
  for (const part of input.split(".")) n = (n << 8n) | BigInt(Number(part))
  return n
}

const v6Bits = (input: string): bigint | undefined => {
  let s = input.split("%")[0]!
  const tail: Array<number> = []
  const lastColon = s.lastIndexOf(":")
  if (s.slice(lastColon + 1).includes(".")) {
    // an embedded dotted quad is the last two words
    const v4 = v4Bits(s.slice(lastColon + 1))
    tail.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
    s = s.slice(0, lastColon + 1)
    if (!s.endsWith("::")) s = s.slice(0, -1)
  }
  const words = (x: string) => (x === "" ? [] : x.split(":").map((w) => parseInt(w, 16)))
  const double = s.indexOf("::")
  let all: Array<number>
  if (double === -1) all = [...words(s), ...tail]
  else {
    const head = words(s.slice(0, double))
    const rest = words(s.slice(double + 2))
    all = [...head, ...new Array<number>(8 - head.length - rest.length - tail.length).fill(0), ...rest, ...tail]
  }
  if (all.length !== 8) return undefined
  let n = 0n
  for (const w of all) n = (n << 16n) | BigInt(w)
  return n
}

/**
 * An IP address as a 128-bit integer: IPv6 as it is, IPv4 as its IPv4-mapped
 * IPv6 form (`::ffff:a.b.c.d`), so that one comparison covers both families
 * (block lists, ranges). `undefined` when `input` is not an address of `family`.
 *
 * @example
 * ```ts
 * import { Address } from "@sluice/core"
 *
 * Address.toBits("::1", 6) // 1n
 * Address.toBits("10.0.0.1", 4) === Address.toBits("::ffff:10.0.0.1", 6) // true
 * ```
 *
 * @category numbers
 * @since 0.1.0
 */
export const toBits = (input: string, family: 4 | 6): bigint | undefined =>
  family === 4 ? (isIPv4(input) ? V4_MAPPED | v4Bits(input) : undefined) : isIPv6(input) ? v6Bits(input) : undefined

const v4Text = (n: bigint): string => `${(n >> 24n) & 0xffn}.${(n >> 16n) & 0xffn}.${(n >> 8n) & 0xffn}.${n & 0xffn}`

/**
 * The canonical text of an address, as `inet_ntop` writes it: dotted quad for
 * IPv4; for IPv6 lower-case hex, the longest run of zero words as `::`, and a
 * dotted tail for IPv4-mapped and IPv4-compatible addresses.
 *
 * @category numbers
 * @since 0.1.0
 */
export const fromBits = (bits: bigint, family: 4 | 6): string => {
  if (family === 4) return v4Text(bits & 0xffffffffn)
  const words: Array<number> = []
  for (let i = 7; i >= 0; i--) words.push(Number((bits >> BigInt(i * 16)) & 0xffffn))
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  if (bestLen < 2) best = -1
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    return `::${bestLen === 5 ? "ffff:" : ""}${v4Text(bits & 0xffffffffn)}`
  }
  const hex = (ws: Array<number>) => ws.map((w) => w.toString(16)).join(":")
  if (best === -1) return hex(words)
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`
}

/**
 * The mask of a network prefix over {@link toBits} values: for IPv4 the
 * mapped-address prefix plus `prefix` bits, for IPv6 the first `prefix` bits.
 *
 * @category numbers
 * @since 0.1.0
 */
export const prefixMask = (family: 4 | 6, prefix: number): bigint => {
  const bits = family === 4 ? 32 : 128
  const host = (1n << BigInt(bits - prefix)) - 1n
  return ALL_ONES ^ host
}
