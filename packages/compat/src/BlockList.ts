/**
 * `net.BlockList`: rules (addresses, ranges, subnets) that a server checks
 * against the peer address of every accepted connection. IPv4 rules also
 * match IPv4-mapped IPv6 addresses, and the other way round, as in Node.
 *
 * @since 0.1.0
 */
import * as Address from "@sluice/core/Address"
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE } from "./errors.ts"
import * as Validate from "./internal/validate.ts"
import { kValue, SocketAddress } from "./SocketAddress.ts"

// as `require` gives it: an ESM import of node:util reads (and so loads) every lazy export
const { inspect } = process.getBuiltinModule("node:util")

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

const sameRule = (a: Rule, b: Rule): boolean => {
  switch (a.type) {
    case "Address":
      return b.type === "Address" && a.address[kValue] === b.address[kValue]
    case "Range":
      return b.type === "Range" && a.start[kValue] === b.start[kValue] && a.end[kValue] === b.end[kValue]
        && a.start.family === b.start.family && a.end.family === b.end.family
    case "Subnet":
      return b.type === "Subnet" && a.network[kValue] === b.network[kValue] && a.prefix === b.prefix
        && a.network.family === b.network.family
  }
}

/** `"10.0.0.0/8"` → address, prefix and family, with Node's errors (a `:` makes it IPv6, as in Node). */
const parseCIDR = (cidr: unknown): { address: string; prefix: number; family: IPVersion } => {
  Validate.validateString(cidr, "cidr")
  const slash = cidr.lastIndexOf("/")
  if (slash === -1) throw ERR_INVALID_ARG_VALUE("cidr", cidr, "must contain a prefix length (e.g. \"10.0.0.0/8\")")
  const address = cidr.slice(0, slash)
  const text = cidr.slice(slash + 1)
  const prefix = Number.parseInt(text, 10)
  if (Number.isNaN(prefix) || `${prefix}` !== text) {
    throw ERR_INVALID_ARG_VALUE("cidr", cidr, "prefix length must be a valid integer")
  }
  return { address, prefix, family: address.includes(":") ? "ipv6" : "ipv4" }
}

/** An IPv4 address, or an IPv4-mapped IPv6 one (IPv4 addresses are held in their mapped form). */
const isMapped = (value: bigint): boolean => value >> 32n === 0xffffn

/**
 * Node's order of addresses is partial: an IPv4 address and an IPv6 one
 * compare only when the IPv6 one is IPv4-mapped.
 */
const comparable = (a: bigint, aFamily: IPVersion, b: bigint, bFamily: IPVersion): boolean =>
  aFamily === bFamily || (isMapped(a) && isMapped(b))

const matches = (rule: Rule, value: bigint, family: IPVersion): boolean => {
  switch (rule.type) {
    case "Address":
      return rule.address[kValue] === value
    case "Range": {
      const { start, end } = rule
      return comparable(value, family, start[kValue], start.family) && start[kValue] <= value
        && comparable(value, family, end[kValue], end.family) && value <= end[kValue]
    }
    case "Subnet": {
      const mask = Address.prefixMask(rule.network.family === "ipv4" ? 4 : 6, rule.prefix)
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

  constructor() {
    // Node's BlockList is cloned by the messaging layer with its native rules, which user code cannot do:
    // structuredClone / postMessage fail with DataCloneError instead of delivering an object without rules
    // (node:worker_threads taken here, at the first BlockList, not when compat is imported)
    process.getBuiltinModule("node:worker_threads").markAsUncloneable(this)
  }

  /** `true` for a `BlockList`. */
  static isBlockList(value: unknown): value is BlockList {
    return isBlockList(value)
  }

  /** The private, loopback, link-local and unique-local ranges, as CIDRs (Node's list, frozen). */
  static readonly PRIVATE_RANGES: ReadonlyArray<string> = Object.freeze([
    // RFC 1918, private IPv4
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    // loopback
    "127.0.0.0/8",
    "::1/128",
    // link-local
    "169.254.0.0/16",
    "fe80::/10",
    // unique local
    "fc00::/7"
  ])

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
    if (comparable(s[kValue], s.family, e[kValue], e.family) && s[kValue] > e[kValue]) {
      throw ERR_INVALID_ARG_VALUE("start", s, "must come before end")
    }
    this.add({ type: "Range", start: s, end: e })
  }

  addSubnet(net: SocketAddress, prefix: number): void
  addSubnet(net: string, prefix: number, family?: IPVersion): void
  addSubnet(network: string | SocketAddress, prefix: number, family: string = "ipv4"): void {
    const n = toAddress(network, "network", family)
    if (n.family === "ipv4") Validate.validateInt32(prefix, "prefix", 0, 32)
    else Validate.validateInt32(prefix, "prefix", 0, 128)
    // coerces -0 to +0, as Node's
    this.add({ type: "Subnet", network: n, prefix: prefix + 0 })
  }

  addAddresses(addresses: ReadonlyArray<string | SocketAddress>, family: string = "ipv4"): void {
    if (!Array.isArray(addresses)) throw ERR_INVALID_ARG_TYPE("addresses", "Array", addresses)
    Validate.validateString(family, "family")
    const list = addresses.map((a, i) => toAddress(a, `addresses[${i}]`, family))
    for (const address of list) this.add({ type: "Address", address })
  }

  addCIDR(cidr: string): void {
    const { address, prefix, family } = parseCIDR(cidr)
    this.addSubnet(address, prefix, family)
  }

  addCIDRs(cidrs: ReadonlyArray<string>): void {
    if (!Array.isArray(cidrs)) throw ERR_INVALID_ARG_TYPE("cidrs", "Array", cidrs)
    const parsed = cidrs.map((c: unknown, i) => {
      Validate.validateString(c, `cidrs[${i}]`)
      return parseCIDR(c)
    })
    for (const { address, prefix, family } of parsed) this.addSubnet(address, prefix, family)
  }

  removeAddress(address: string | SocketAddress, family: string = "ipv4"): void {
    this.remove({ type: "Address", address: toAddress(address, "address", family) })
  }

  removeRange(start: string | SocketAddress, end: string | SocketAddress, family: string = "ipv4"): void {
    this.remove({ type: "Range", start: toAddress(start, "start", family), end: toAddress(end, "end", family) })
  }

  removeSubnet(network: string | SocketAddress, prefix: number, family: string = "ipv4"): void {
    const n = toAddress(network, "network", family)
    if (n.family === "ipv4") Validate.validateInt32(prefix, "prefix", 0, 32)
    else Validate.validateInt32(prefix, "prefix", 0, 128)
    this.remove({ type: "Subnet", network: n, prefix })
  }

  removeCIDR(cidr: string): void {
    const { address, prefix, family } = parseCIDR(cidr)
    this.removeSubnet(address, prefix, family)
  }

  /** Removes every rule. */
  clear(): void {
    this[kRules].length = 0
  }

  /** The number of rules. */
  get size(): number {
    return this[kRules].length
  }

  check(address: SocketAddress): boolean
  check(address: string, family?: IPVersion): boolean
  check(address: string | SocketAddress, family: string = "ipv4"): boolean {
    let value: bigint | undefined
    let f: IPVersion
    if (SocketAddress.isSocketAddress(address)) {
      value = address[kValue]
      f = address.family
    } else {
      Validate.validateString(address, "address")
      Validate.validateString(family, "family")
      // as Node's: any family but IPv4 is IPv6; an address that does not parse matches nothing
      f = family.toLowerCase() === "ipv4" ? "ipv4" : "ipv6"
      value = Address.toBits(address, f === "ipv4" ? 4 : 6)
      if (value === undefined) return false
    }
    const v = value
    return this[kRules].some((rule) => matches(rule, v, f))
  }

  get rules(): Array<string> {
    return this[kRules].map(describeRule)
  }

  toJSON(): Array<string> {
    return this.rules
  }

  /**
   * Adds the rules of `data` (the output of `toJSON`, or its JSON text),
   * checked and read as Node reads them (its patterns, which take the
   * leading part of an address they match).
   */
  fromJSON(data: string | ReadonlyArray<string>): void {
    let list: unknown = data
    if (Array.isArray(list)) {
      for (const n of list) {
        if (typeof n !== "string") throw ERR_INVALID_ARG_TYPE("data", ["string", "string[]"], data)
      }
    } else if (typeof list !== "string") {
      throw ERR_INVALID_ARG_TYPE("data", ["string", "string[]"], data)
    } else {
      list = JSON.parse(list)
      if (!Array.isArray(list)) throw ERR_INVALID_ARG_TYPE("data", ["string", "string[]"], list)
      for (const n of list) {
        if (typeof n !== "string") throw ERR_INVALID_ARG_TYPE("data", ["string", "string[]"], list)
      }
    }
    this.parseIPInfo(list as ReadonlyArray<string>)
  }

  private parseIPInfo(data: ReadonlyArray<string>): void {
    for (const item of data) {
      if (item.includes("IPv4")) {
        const subnet = /Subnet: IPv4 (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})/.exec(item)
        if (subnet) {
          this.addSubnet(subnet[1]!, Number.parseInt(subnet[2]!))
          continue
        }
        const address = /Address: IPv4 (\d{1,3}(?:\.\d{1,3}){3})/.exec(item)
        if (address) {
          this.addAddress(address[1]!)
          continue
        }
        const range = /Range: IPv4 (\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})/.exec(item)
        if (range) {
          this.addRange(range[1]!, range[2]!)
          continue
        }
      }
      if (item.includes("IPv6")) {
        const subnet = /Subnet: IPv6 ([0-9a-fA-F:]{1,39})\/([0-9]{1,3})/i.exec(item)
        if (subnet) {
          this.addSubnet(subnet[1]!, Number.parseInt(subnet[2]!), "ipv6")
          continue
        }
        const address = /Address: IPv6 ([0-9a-fA-F:]{1,39})/i.exec(item)
        if (address) {
          this.addAddress(address[1]!, "ipv6")
          continue
        }
        const range = /Range: IPv6 ([0-9a-fA-F:]{1,39})-([0-9a-fA-F:]{1,39})/i.exec(item)
        if (range) {
          this.addRange(range[1]!, range[2]!, "ipv6")
          continue
        }
      }
    }
  }

  private add(rule: Rule): void {
    // newest first within each kind; kinds ordered as Node lists them; an address is kept once, where it
    // was first added, in the form it was last added (an IPv4 address and its IPv4-mapped IPv6 form are one)
    const rules = this[kRules]
    if (rule.type === "Address") {
      const old = rules.findIndex((r) => sameRule(r, rule))
      if (old !== -1) {
        rules[old] = rule
        return
      }
    }
    let i = 0
    while (i < rules.length && order[rules[i]!.type] < order[rule.type]) i++
    rules.splice(i, 0, rule)
  }

  private remove(rule: Rule): void {
    // one rule: the newest that is the same
    const rules = this[kRules]
    const i = rules.findIndex((r) => sameRule(r, rule))
    if (i !== -1) rules.splice(i, 1)
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
