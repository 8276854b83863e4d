/**
 * Options as tables: one row per option of `connect` and `listen`, saying how
 * its value is checked (durations are converted to milliseconds) and which
 * kind of target it applies to. Reading takes each field once, so a getter
 * runs once and what is checked is what is used. A value of the wrong kind, a
 * getter that throws, or an option meant for another kind of target is the
 * message of an `InvalidOptions` error naming the field.
 */
import { isIP } from "../Address.ts"
import { durationProblem, toMillis } from "./duration.ts"
import { show } from "./show.ts"

/** What a `connect` or `listen` aims at: a host and port, a path (local socket), an inherited descriptor. */
export type TargetKind = "tcp" | "ipc" | "fd"

/**
 * Why a given value is not valid: the message without the field's name, or,
 * when `named`, a message that names the field itself (an option with
 * fields of its own: `tls.servername: …`).
 */
export class Invalid {
  readonly message: string
  readonly named: boolean
  constructor(message: string, named = false) {
    this.message = message
    this.named = named
  }
}

/** One option: its check and the kind of target it is for. */
export interface Field<A> {
  /** The checked (converted) value of a given option, or why it is invalid. */
  readonly parse: (value: unknown) => A | Invalid
  /** The only kind of target the option applies to (`undefined`: every kind). */
  readonly only: TargetKind | undefined
}

const check = <A>(is: (u: unknown) => u is A, expected: string): Field<A> => ({
  parse: (u) => (is(u) ? u : new Invalid(`expected ${expected}, got ${show(u)}`)),
  only: undefined
})

/** A boolean. */
export const boolean: Field<boolean> = check((u): u is boolean => typeof u === "boolean", "a boolean")

/** A string that is not empty (an empty host or path is a mistake, not a default). */
export const nonEmptyString: Field<string> = check(
  (u): u is string => typeof u === "string" && u.length > 0,
  "a non-empty string"
)

/** An integer from 0 to 65535. */
export const port: Field<number> = check(
  (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 65535,
  "an integer from 0 to 65535"
)

/** A safe integer ≥ 0. */
export const nonNegativeInt: Field<number> = check(
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0,
  "an integer ≥ 0"
)

/**
 * getaddrinfo flags: an integer from 0 to 2^31 − 1 (a larger one would be
 * truncated to 32 bits; which flags a lookup knows is the driver's).
 */
export const hints: Field<number> = check(
  (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0x7fffffff,
  "an integer from 0 to 2147483647"
)

/** One of the listed numbers. */
export const literals = <const L extends ReadonlyArray<number>>(...values: L): Field<L[number]> =>
  check((u): u is L[number] => values.includes(u as number), values.join(", ").replace(/, (?=[^,]*$)/, " or "))

/** One of the listed strings. */
export const strings = <const L extends ReadonlyArray<string>>(...values: L): Field<L[number]> =>
  check(
    (u): u is L[number] => values.includes(u as string),
    values.map((v) => JSON.stringify(v)).join(", ").replace(/, (?=[^,]*$)/, " or ")
  )

/** An IPv4 or IPv6 address (not a name). */
export const ipAddress: Field<string> = check(
  (u): u is string => typeof u === "string" && isIP(u) !== 0,
  "an IP address"
)

/** A function (the type is the option's own). */
export const func = <F>(): Field<F> => check((u): u is F => typeof u === "function", "a function")

/**
 * A timeout in milliseconds: a duration ≥ 0, where `0`, like `Infinity`,
 * means no timeout (Node's rule); no timeout is `Infinity`.
 */
export const timeout: Field<number> = {
  parse: (u) => {
    const ms = toMillis(u)
    if (ms === 0) return Infinity
    return ms >= 0 ? ms : new Invalid(durationProblem(u, ms))
  },
  only: undefined
}

/** A finite delay in milliseconds ≥ 0. */
export const delay: Field<number> = {
  parse: (u) => {
    const ms = toMillis(u)
    if (Number.isFinite(ms) && ms >= 0) return ms
    return new Invalid(ms === Infinity ? `expected a finite duration, got ${show(u)}` : durationProblem(u, ms))
  },
  only: undefined
}

/** `field`, for a TCP target only (given with `path` or `fd`, it is refused). */
export const tcp = <A>(field: Field<A>): Field<A> => ({ parse: field.parse, only: "tcp" })

/** `field`, for a path (IPC) target only. */
export const ipc = <A>(field: Field<A>): Field<A> => ({ parse: field.parse, only: "ipc" })

/** `field`, for an inherited descriptor only. */
export const fd = <A>(field: Field<A>): Field<A> => ({ parse: field.parse, only: "fd" })

/** The rows of an operation's options. */
export type Table = { readonly [key: string]: Field<unknown> }

/** The options a {@link Table} accepts: each given field checked and converted. */
export type Parsed<T extends Table> = { -readonly [K in keyof T]?: T[K] extends Field<infer A> ? A : never }

const selectorOf = { ipc: "path", fd: "fd" } as const
const kindOf = { tcp: " (a TCP option)", ipc: " (an IPC option)", fd: "" } as const

/** Why `key`, an option for `only` targets, cannot be given to a `kind` target. */
const misplaced = (key: string, only: TargetKind, kind: TargetKind): string =>
  kind === "tcp"
    ? `${key}: only with ${only === "fd" ? "fd" : "path"}${kindOf[only]}`
    : `${key}: not allowed with ${selectorOf[kind]}${kindOf[only]}`

/**
 * A reader of the options `table` describes: the checked options, or the
 * message naming the first invalid field. The target is a path when `path`
 * is given, else a descriptor when `fd` is given, else TCP; an option for
 * another kind of target is invalid. Fields the table does not name are
 * ignored (as Node does).
 */
export const reader = <T extends Table>(table: T): (options: unknown) => Parsed<T> | string => {
  const rows = Object.entries(table)
  const restricted: Array<readonly [string, TargetKind]> = []
  for (const [key, field] of rows) {
    if (field.only !== undefined) restricted.push([key, field.only])
  }
  return (options) => {
    const out: Record<string, unknown> = {}
    let key = "options"
    try {
      if (typeof options !== "object" || options === null || Array.isArray(options)) {
        return `options: expected an object, got ${show(options)}`
      }
      const record = options as Record<string, unknown>
      for (const [name, field] of rows) {
        key = name
        const value = record[name]
        if (value === undefined) continue
        const parsed = field.parse(value)
        if (parsed instanceof Invalid) return parsed.named ? parsed.message : `${key}: ${parsed.message}`
        out[name] = parsed
      }
    } catch (error) {
      return `${key}: reading it threw ${show(error)}`
    }
    const kind: TargetKind = out["path"] !== undefined ? "ipc" : out["fd"] !== undefined ? "fd" : "tcp"
    for (const [name, only] of restricted) {
      if (only !== kind && out[name] !== undefined) return misplaced(name, only, kind)
    }
    return out as Parsed<T>
  }
}
