/**
 * Duration options in milliseconds, checked: every face takes durations as
 * `Duration.Input` and reports a bad one as an `InvalidOptions` error naming
 * the field and the value.
 */
import * as Duration from "effect/Duration"

/**
 * The duration in milliseconds (`undefined` when absent or infinite), or the
 * message naming the field when the input is not a duration ≥ 0.
 */
export const millisOrMessage = (field: string, input: Duration.Input | undefined): number | undefined | string => {
  if (input === undefined) return undefined
  // Duration reads NaN as zero: a NaN is a mistake, not "at once"
  if (typeof input === "number" && Number.isNaN(input)) return `${field}: expected a duration, got NaN`
  const d = Duration.fromInput(input)
  if (d._tag === "None") return `${field}: expected a duration, got ${String(input)}`
  const ms = Duration.toMillis(d.value)
  if (Number.isFinite(ms) && ms >= 0) return ms
  if (ms === Infinity) return undefined
  return `${field}: expected a duration ≥ 0, got ${String(input)}`
}

/**
 * The named durations in milliseconds (`undefined` when absent or infinite),
 * or the message naming the first invalid one.
 */
export const millisOf = <K extends string>(
  options: { readonly [k in K]?: Duration.Input | undefined },
  fields: ReadonlyArray<K>
): Record<K, number | undefined> | string => {
  const out = {} as Record<K, number | undefined>
  for (const field of fields) {
    const ms = millisOrMessage(field, options[field])
    if (typeof ms === "string") return ms
    out[field] = ms
  }
  return out
}
