/**
 * `net.BlockList`: rules (addresses, ranges, subnets) that a server checks
 * against the peer address of every accepted connection. IPv4 rules also
 * match IPv4-mapped IPv6 addresses, and the other way round, as in Node.
 *
 * @since 0.1.0
 */
import { inspect } from "node:util"
import { ERR_INVALID_ARG_VALUE } from "./errors.ts"
import * as Ip from "./internal/ip.ts"
import * as Validate from "./internal/validate.ts"
import { kValue, SocketAddress } from "./SocketAddress.ts"

const kRules = Symbol("kRules")

/**
 * An IP version name.
 *
 * @category models
 * @since 0.1.0
 */
export type IPVersion = "ipv4" | "ipv6"

/**
 * What servers and sockets need of a block list (any `net.BlockList` fits).
 *
 * @category models
 * @since 0.1.0
 */
export interface BlockListLike {
  check(address: string, family?: IPVersion): boolean
}

type Rule =
  | { readonly type: "Address"; readonly address: SocketAddress }
  | { readonly type: "Range"; readonly start: SocketAddress; readonly end: SocketAddress }
  | { readonly type: "Subnet"; readonly network: SocketAddress; readonly prefix: number }

const order = { Address: 0, Subnet: 1, Range: 2 } as const

const familyName = (a: SocketAddress) => (a.family === "ipv4" ? "IPv4" : "IPv6")

const describeRule = (rule: Rule): string => {
  switch (rule.type) {
    case "Address":
      return `Address: ${familyName(rule.address)} ${rule.address.address}`
    case "Range":
      return `Range: ${familyName(rule.start)} ${rule.start.address}-${rule.end.address}`
    case "Subnet":
      return `Subnet: ${familyName(rule.network)} ${rule.network.address}/${rule.prefix}`
  }
}

const toAddress = (value: unknown, name: string, family: unknown): SocketAddress => {
  if (SocketAddress.isSocketAddress(value)) return value
  Validate.validateString(value, name)
  Validate.validateString(family, "family")
  return new SocketAddress({ address: value, family: family as "ipv4" })
}

const matches = (rule: Rule, value: bigint): boolean => {
  switch (rule.type) {
    case "Address":
      return rule.address[kValue] === value
    case "Range":
      return rule.start[kValue] <= value && value <= rule.end[kValue]
    case "Subnet": {
      const mask = Ip.prefixMask(rule.network.family, rule.prefix)
      return (rule.network[kValue] & mask) === (value & mask)
    }
  }
}

/**
 * `net.BlockList`.
 *
 * @category models
 * @since 0.1.0
 */
export class BlockList {
  private readonly [kRules]: Array<Rule> = []

  /** `true` for a `BlockList`. */
  static isBlockList(value: unknown): value is BlockList {
    return isBlockList(value)
  }

  addAddress(address: string, family?: IPVersion): void
  addAddress(address: SocketAddress): void
  addAddress(address: string | SocketAddress, family: string = "ipv4"): void {
    this.add({ type: "Address", address: toAddress(address, "address", family) })
  }

  addRange(start: string, end: string, family?: IPVersion): void
  addRange(start: SocketAddress, end: SocketAddress): void
  addRange(start: string | SocketAddress, end: string | SocketAddress, family: string = "ipv4"): void {
    const s = toAddress(start, "start", family)
    const e = toAddress(end, "end", family)
    if (s[kValue] > e[kValue]) throw ERR_INVALID_ARG_VALUE("start", s, "must come before end")
    this.add({ type: "Range", start: s, end: e })
  }

  addSubnet(net: SocketAddress, prefix: number): void
  addSubnet(net: string, prefix: number, family?: IPVersion): void
  addSubnet(network: string | SocketAddress, prefix: number, family: string = "ipv4"): void {
    const n = toAddress(network, "network", family)
    if (n.family === "ipv4") Validate.validateInt32(prefix, "prefix", 0, 32)
    else Validate.validateInt32(prefix, "prefix", 0, 128)
    this.add({ type: "Subnet", network: n, prefix })
  }

  check(address: SocketAddress): boolean
  check(address: string, family?: IPVersion): boolean
  check(address: string | SocketAddress, family: string = "ipv4"): boolean {
    let a: SocketAddress
    if (SocketAddress.isSocketAddress(address)) a = address
    else {
      Validate.validateString(address, "address")
      Validate.validateString(family, "family")
      try {
        a = new SocketAddress({ address, family: family as "ipv4" })
      } catch {
        return false
      }
    }
    const value = a[kValue]
    return this[kRules].some((rule) => matches(rule, value))
  }

  get rules(): Array<string> {
    return this[kRules].map(describeRule)
  }

  toJSON(): Array<string> {
    return this.rules
  }

  /** Adds the rules of `rules` (the output of `toJSON`, or its JSON text). */
  fromJSON(data: string | ReadonlyArray<string>): void {
    const list: ReadonlyArray<unknown> = typeof data === "string" ? JSON.parse(data) : data
    for (const line of list) {
      const m = /^(Address|Range|Subnet): (IPv4|IPv6) (.+)$/.exec(String(line))
      if (m === null) continue
      const family = m[2] === "IPv4" ? "ipv4" : "ipv6"
      const rest = m[3]!
      if (m[1] === "Address") this.addAddress(rest, family)
      else if (m[1] === "Range") {
        const [s, e] = rest.split("-") as [string, string]
        this.addRange(s, e, family)
      } else {
        const slash = rest.lastIndexOf("/")
        this.addSubnet(rest.slice(0, slash), Number(rest.slice(slash + 1)), family)
      }
    }
  }

  private add(rule: Rule): void {
    // newest first within each kind; kinds ordered as Node lists them
    const rules = this[kRules]
    let i = 0
    while (i < rules.length && order[rules[i]!.type] < order[rule.type]) i++
    rules.splice(i, 0, rule)
  }

  [inspect.custom](depth: number, options: { depth?: number | null }): string | this {
    if (depth < 0) return this
    return `BlockList ${
      inspect({ rules: this.rules }, { ...options, depth: options.depth == null ? null : options.depth - 1 })
    }`
  }
}

/**
 * `BlockList.isBlockList(value)`.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isBlockList = (value: unknown): value is BlockList =>
  typeof value === "object" && value !== null && kRules in value
