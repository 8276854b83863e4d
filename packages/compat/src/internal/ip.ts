/**
 * IP addresses as 128-bit integers (IPv4 as IPv4-mapped IPv6), parsing and
 * the canonical text forms `inet_ntop` produces.
 */
import { isIPv4, isIPv6 } from "@sluice/core/Address"

const V4_MAPPED = 0xffffn << 32n

const parseV4 = (s: string): bigint => {
  let n = 0n
  for (const part of s.split(".")) n = (n << 8n) | BigInt(Number(part))
  return n
}

/** Parses an address of the given family; `undefined` when it is not one. */
export const parse = (address: string, family: "ipv4" | "ipv6"): bigint | undefined => {
  if (family === "ipv4") return isIPv4(address) ? V4_MAPPED | parseV4(address) : undefined
  if (!isIPv6(address)) return undefined
  const zone = address.indexOf("%")
  let s = zone === -1 ? address : address.slice(0, zone)
  let tail: Array<number> = []
  const lastColon = s.lastIndexOf(":")
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(s.slice(lastColon + 1))
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)]
    s = `${s.slice(0, lastColon + 1)}${s.endsWith("::") ? "" : ""}`
    if (s.endsWith(":") && !s.endsWith("::")) s = s.slice(0, -1)
  }
  const [head, rest] = s.includes("::") ? s.split("::") as [string, string] : [s, undefined]
  const words = (x: string) => (x === "" ? [] : x.split(":").map((w) => parseInt(w, 16)))
  const front = words(head)
  const back = rest === undefined ? [] : words(rest)
  const fill = 8 - front.length - back.length - tail.length
  const all = rest === undefined
    ? [...front, ...tail]
    : [...front, ...new Array<number>(fill).fill(0), ...back, ...tail]
  if (all.length !== 8) return undefined
  let n = 0n
  for (const w of all) n = (n << 16n) | BigInt(w)
  return n
}

const formatV4 = (n: bigint): string => [(n >> 24n) & 0xffn, (n >> 16n) & 0xffn, (n >> 8n) & 0xffn, n & 0xffn].join(".")

/** The canonical text of an address of the given family. */
export const format = (n: bigint, family: "ipv4" | "ipv6"): string => {
  if (family === "ipv4") return formatV4(n & 0xffffffffn)
  const words: Array<number> = []
  for (let i = 7; i >= 0; i--) words.push(Number((n >> BigInt(i * 16)) & 0xffffn))
  // the longest run of zero words (at least two), first on ties
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
  // IPv4-mapped and IPv4-compatible addresses end in a dotted quad
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    return `::${bestLen === 5 ? "ffff:" : ""}${formatV4(n & 0xffffffffn)}`
  }
  const hex = (ws: Array<number>) => ws.map((w) => w.toString(16)).join(":")
  if (best === -1) return hex(words)
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`
}

/** The first address of the prefix `n/prefix` in the family's bit width. */
export const prefixMask = (family: "ipv4" | "ipv6", prefix: number): bigint => {
  const bits = family === "ipv4" ? 32 : 128
  const ones = (1n << BigInt(bits)) - 1n
  const host = (1n << BigInt(bits - prefix)) - 1n
  return family === "ipv4" ? (V4_MAPPED | (ones ^ host)) | (((1n << 128n) - 1n) ^ ((1n << 32n) - 1n)) : ones ^ host
}
