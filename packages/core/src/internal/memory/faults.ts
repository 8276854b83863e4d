/**
 * Faults of the memory network: the rules a test gives, and the link each
 * direction of a new connection gets from the rules that match it.
 *
 * @internal
 */

/** A value for both directions, or one per direction. */
export type PerDirection<A> = A | { readonly toServer?: A | undefined; readonly toClient?: A | undefined }

/** A fault rule, applied to connections whose server side matches. */
export interface FaultRule {
  readonly match?: {
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly path?: string | undefined
    /** The dialing side's host (an address or a host table name): the rule is then for one link. */
    readonly client?: string | undefined
  } | undefined
  readonly slice?: PerDirection<number> | undefined
  readonly latency?: PerDirection<number> | undefined
  readonly bandwidth?: PerDirection<number> | undefined
  readonly refuse?: boolean | undefined
  readonly resetAfter?: PerDirection<number> | undefined
  readonly slowClose?: number | undefined
}

export interface Link {
  latency: number
  bandwidth: number
  slice: number
  resetAfter: number
  slowClose: number
}

export const pick = <A>(value: PerDirection<A> | undefined, dir: Direction): A | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "object" && value !== null && ("toServer" in value || "toClient" in value)) {
    return (value as { readonly toServer?: A; readonly toClient?: A })[dir]
  }
  return value as A
}

export type Direction = "toServer" | "toClient"

/** The link of one direction of a new connection: the matching rules, later ones winning field by field. */
export const linkOf = (rules: ReadonlyArray<FaultRule>, dir: Direction): Link => {
  const link: Link = { latency: 0, bandwidth: 0, slice: 0, resetAfter: -1, slowClose: 0 }
  for (const rule of rules) {
    link.latency = pick(rule.latency, dir) ?? link.latency
    link.bandwidth = pick(rule.bandwidth, dir) ?? link.bandwidth
    link.slice = pick(rule.slice, dir) ?? link.slice
    link.resetAfter = pick(rule.resetAfter, dir) ?? link.resetAfter
    link.slowClose = rule.slowClose ?? link.slowClose
  }
  return link
}
