/**
 * `net.BlockList`: rules (addresses, ranges, subnets) that a server checks
 * against the peer address of every accepted connection.
 *
 * @since 0.1.0
 */

const kBlockList = Symbol.for("sluice.net.BlockList")

/**
 * `net.BlockList`.
 *
 * @category models
 * @since 0.1.0
 */
export class BlockList {
  readonly [kBlockList] = true
  check(_address: unknown, _type?: string): boolean {
    return false
  }
}

/**
 * `BlockList.isBlockList(value)`.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isBlockList = (value: unknown): value is BlockList =>
  typeof value === "object" && value !== null && (value as { [kBlockList]?: boolean })[kBlockList] === true
