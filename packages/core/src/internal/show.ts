/**
 * How a value given as an option is shown in an error message: short, one
 * line, and total — showing never throws, whatever the value (a symbol, an
 * object without a prototype, a getter that throws, a revoked proxy).
 */
import * as Duration from "effect/Duration"

const MAX_ITEMS = 4
const MAX_TEXT = 60

const clip = (s: string): string => (s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`)

const showAt = (value: unknown, depth: number): string => {
  switch (typeof value) {
    case "string":
      return clip(JSON.stringify(value))
    case "number":
      return Object.is(value, -0) ? "-0" : String(value)
    case "bigint":
      return `${String(value)}n`
    case "symbol":
      return clip(value.toString())
    case "function":
      return "a function"
    case "undefined":
    case "boolean":
      return String(value)
    case "object": {
      if (value === null) return "null"
      if (value instanceof Error) return clip(`${value.name}: ${value.message}`)
      if (Duration.isDuration(value)) return `Duration(${Duration.format(value)})`
      if (depth > 1) return Array.isArray(value) ? "[…]" : "{…}"
      if (Array.isArray(value)) {
        const items = value.slice(0, MAX_ITEMS).map((v: unknown) => showAt(v, depth + 1))
        if (value.length > MAX_ITEMS) items.push("…")
        return `[${items.join(", ")}]`
      }
      const keys = Object.keys(value)
      if (keys.length === 0) {
        const proto: unknown = Object.getPrototypeOf(value)
        return proto === Object.prototype || proto === null ? "{}" : "an object"
      }
      const record = value as Record<string, unknown>
      const fields = keys.slice(0, MAX_ITEMS).map((k) => `${k}: ${showAt(record[k], depth + 1)}`)
      if (keys.length > MAX_ITEMS) fields.push("…")
      return `{ ${fields.join(", ")} }`
    }
  }
}

/** `"soon"`, `NaN`, `-0`, `5n`, `Symbol(x)`, `{ seconds: NaN }`, `[1, 2]`, `a function`. */
export const show = (value: unknown): string => {
  try {
    return showAt(value, 0)
  } catch {
    return "a value that cannot be read"
  }
}
