/**
 * Duration options in milliseconds, checked: every face takes durations as
 * `Duration.Input` and reports a bad one as an `InvalidOptions` error naming
 * the field and the value.
 *
 * Stricter than `Duration.fromInput`, which reads `NaN`, `{}`,
 * `{ seconds: NaN }`, `[NaN, 0]` as zero and coerces the fields of a
 * duration object (`{ seconds: "5" }`): here each of those is not a duration.
 * Accepted: a `Duration`; a number of milliseconds (not `NaN`); a bigint of
 * nanoseconds; a string `Duration` parses (`"2 seconds"`, `"Infinity"`); a
 * `[seconds, nanos]` pair of numbers; an object of unit fields
 * (`{ seconds: 2 }`), at least one given, each a number, no other field.
 */
import * as Duration from "effect/Duration"
import { show } from "./show.ts"

const units = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
])

const isNumber = (u: unknown): u is number => typeof u === "number" && !Number.isNaN(u)

/** A `{ seconds: 2 }` object: only unit fields, at least one given, each a number. */
const isDurationObject = (input: object): boolean => {
  let given = 0
  for (const key of Object.keys(input)) {
    if (!units.has(key)) return false
    const value: unknown = (input as Record<string, unknown>)[key]
    if (value === undefined) continue
    if (!isNumber(value)) return false
    given++
  }
  return given > 0
}

const isPlainObject = (input: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(input)
  return proto === Object.prototype || proto === null
}

/** The milliseconds of a structurally valid input, `NaN` for anything else. */
const millisOfInput = (input: unknown): number => {
  switch (typeof input) {
    case "number":
      return input
    case "bigint":
      return Number(input) / 1e6
    case "string": {
      const d = Duration.fromInput(input as Duration.Input)
      return d._tag === "Some" ? Duration.toMillis(d.value) : Number.NaN
    }
    case "object": {
      if (input === null) return Number.NaN
      if (Duration.isDuration(input)) return Duration.toMillis(input)
      const valid = Array.isArray(input)
        ? input.length === 2 && isNumber(input[0]) && isNumber(input[1])
        : isPlainObject(input) && isDurationObject(input)
      if (!valid) return Number.NaN
      const d = Duration.fromInput(input as Duration.Input)
      return d._tag === "Some" ? Duration.toMillis(d.value) : Number.NaN
    }
  }
  return Number.NaN
}

/**
 * The milliseconds of a duration input: finite ≥ 0, `Infinity`, a negative
 * number when the duration is negative, `NaN` when the input is not a
 * duration (a getter that throws included). `-0` is `0`.
 */
export const toMillis = (input: unknown): number => {
  let ms: number
  try {
    ms = millisOfInput(input)
  } catch {
    return Number.NaN
  }
  return typeof ms === "number" ? ms + 0 : Number.NaN
}

/** What is wrong with an input {@link toMillis} rejects (`NaN` or negative), without the field. */
export const durationProblem = (input: unknown, ms: number): string =>
  Number.isNaN(ms) ? `expected a duration, got ${show(input)}` : `expected a duration ≥ 0, got ${show(input)}`

/**
 * The duration in milliseconds (`undefined` when absent or infinite), or the
 * message naming the field when the input is not a duration ≥ 0.
 */
export const millisOrMessage = (field: string, input: Duration.Input | undefined): number | undefined | string => {
  if (input === undefined) return undefined
  const ms = toMillis(input)
  if (ms === Infinity) return undefined
  if (ms >= 0) return ms
  return `${field}: ${durationProblem(input, ms)}`
}
