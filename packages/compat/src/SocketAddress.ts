/**
 * `net.SocketAddress`: an immutable IP address, port, family and IPv6 flow
 * label, validated and normalised as Node does.
 *
 * @since 0.1.0
 */
import * as Address from "@sluice/core/Address"
import { ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE } from "./errors.ts"
import type { NodeError } from "./errors.ts"
import * as Validate from "./internal/validate.ts"

// as `require` gives it: an ESM import of node:util reads (and so loads) every lazy export
const { inspect } = process.getBuiltinModule("node:util")

const kDetail = Symbol("kDetail")

/** @internal the address as a 128-bit integer */
export const kValue: unique symbol = Symbol("sluice.SocketAddress.value")

/**
 * Options of `new net.SocketAddress()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketAddressInitOptions {
  address?: string | undefined
  family?: "ipv4" | "ipv6" | undefined
  flowlabel?: number | undefined
  port?: number | undefined
}

interface Detail {
  address: string
  port: number
  family: "ipv4" | "ipv6"
  flowlabel: number
}

const invalidAddress = (): NodeError => {
  const e = new Error("Invalid socket address") as NodeError
  e.code = "ERR_INVALID_ADDRESS"
  return e
}

/**
 * `net.SocketAddress`.
 *
 * @category models
 * @since 0.1.0
 */
export class SocketAddress {
  private readonly [kDetail]: Detail
  /** @internal */
  readonly [kValue]: bigint

  constructor(options: SocketAddressInitOptions = {}) {
    // as BlockList: Node's is cloned natively, which user code cannot do; a clone fails loudly instead
    // (node:worker_threads taken here, at the first SocketAddress, not when compat is imported)
    process.getBuiltinModule("node:worker_threads").markAsUncloneable(this)
    Validate.validateObject(options, "options")
    // (a default for `undefined` only, as Node's destructuring: `null` is refused below)
    let { family = "ipv4" }: { family?: unknown } = options
    const {
      address = family === "ipv4" ? "127.0.0.1" : "::",
      port = 0,
      flowlabel = 0
    } = options
    if (typeof (family as { toLowerCase?: unknown })?.toLowerCase === "function") {
      family = (family as string).toLowerCase()
    }
    if (family !== "ipv4" && family !== "ipv6") throw ERR_INVALID_ARG_VALUE("options.family", options.family)
    Validate.validateString(address, "options.address")
    Validate.validatePort(port, "options.port")
    Validate.validateUint32(flowlabel, "options.flowlabel", false)
    // an IPv6 flow label has 20 bits: node:net 24 aborts the process on a larger one (a failed native check);
    // compat refuses it instead
    if (family === "ipv6" && flowlabel > 0xFFFFF) {
      throw ERR_OUT_OF_RANGE("options.flowlabel", ">= 0 && <= 1048575", flowlabel)
    }
    const value = Address.toBits(address, family === "ipv4" ? 4 : 6)
    if (value === undefined) throw invalidAddress()
    this[kValue] = value
    this[kDetail] = {
      address: Address.fromBits(value, family === "ipv4" ? 4 : 6),
      port: Number(port) | 0,
      family,
      // an IPv4 address has no flow label
      flowlabel: family === "ipv4" ? 0 : flowlabel >>> 0
    }
  }

  /** `true` for a `SocketAddress`. */
  static isSocketAddress(value: unknown): value is SocketAddress {
    return typeof value === "object" && value !== null && kDetail in value
  }

  /** Parses `"1.2.3.4:80"` or `"[::1]:80"`; `undefined` when it cannot. */
  static parse(input: string): SocketAddress | undefined {
    Validate.validateString(input, "input")
    try {
      const { hostname: address, port } = new URL(`http://${input}`)
      if (address.startsWith("[") && address.endsWith("]")) {
        return new SocketAddress({
          address: address.slice(1, -1),
          port: port === "" ? 0 : Number(port),
          family: "ipv6"
        })
      }
      return new SocketAddress({ address, port: port === "" ? 0 : Number(port) })
    } catch {
      return undefined
    }
  }

  get address(): string {
    return this[kDetail].address
  }

  get port(): number {
    return this[kDetail].port
  }

  get family(): "ipv4" | "ipv6" {
    return this[kDetail].family
  }

  get flowlabel(): number {
    return this[kDetail].flowlabel
  }

  toJSON(): Detail {
    const { address, port, family, flowlabel } = this[kDetail]
    return { address, port, family, flowlabel }
  }

  [inspect.custom](depth: number, options: { depth?: number | null }): string | this {
    if (depth < 0) return this
    return `SocketAddress ${
      inspect(this.toJSON(), { ...options, depth: options.depth == null ? null : options.depth - 1 })
    }`
  }
}
