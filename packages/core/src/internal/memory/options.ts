/**
 * The memory network's own options, checked once when a network is made (and
 * each fault when it is injected): a value the network would accept and then
 * hang or fail strangely on (`bufferSize: 0`, `latency: Infinity`,
 * `ephemeralPorts: [5, 4]`, a port out of range, a misspelt field, an address
 * that is not one) is refused with the path of the field and why.
 *
 * @internal
 */
import { isIP } from "../../Address.ts"
import { show } from "../show.ts"

/** Why options were refused: the field (`faults[0].latency.toServer`), what was expected, and what the fault is. */
export interface Problem {
  readonly field: string
  readonly detail: string
  /** `"type"`: a value of the wrong kind; `"range"`: the right kind, out of range. */
  readonly kind: "type" | "range"
}

const problem = (field: string, expected: string, value: unknown, kind: "type" | "range"): Problem => ({
  field,
  detail: `expected ${expected}, got ${show(value)}`,
  kind
})

type Check = (field: string, value: unknown) => Problem | undefined

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A number that passes `ok`; the wrong kind is a type problem, a number out of range a range problem. */
const number = (expected: string, ok: (n: number) => boolean): Check => (field, value) =>
  typeof value !== "number"
    ? problem(field, expected, value, "type")
    : ok(value)
    ? undefined
    : problem(field, expected, value, "range")

const boolean: Check = (field, value) =>
  typeof value === "boolean" ? undefined : problem(field, "a boolean", value, "type")

const nonEmptyString: Check = (field, value) =>
  typeof value === "string" && value.length > 0 ? undefined : problem(field, "a non-empty string", value, "type")

const port = number("an integer from 1 to 65535", (n) => Number.isInteger(n) && n >= 1 && n <= 65535)
const count = (least: number) => number(`an integer ≥ ${least}`, (n) => Number.isSafeInteger(n) && n >= least)
const millis = number("a finite number of milliseconds ≥ 0", (n) => Number.isFinite(n) && n >= 0)

/** Checks the fields of an object against `checks`; a field not in `checks` is refused (a misspelt option). */
const fields = (field: string, value: unknown, checks: Readonly<Record<string, Check>>): Problem | undefined => {
  if (!isObject(value)) return problem(field, "an object", value, "type")
  const prefix = field === "" ? "" : `${field}.`
  for (const key of Object.keys(value)) {
    const check = checks[key]
    if (check === undefined) {
      return {
        field: `${prefix}${key}`,
        detail: `unknown field (known: ${Object.keys(checks).join(", ")})`,
        kind: "type"
      }
    }
    let v: unknown
    try {
      v = value[key]
    } catch (error) {
      // a getter that throws: the field is refused, the check itself never throws
      return { field: `${prefix}${key}`, detail: `reading it threw ${show(error)}`, kind: "type" }
    }
    if (v === undefined) continue
    const found = check(`${prefix}${key}`, v)
    if (found !== undefined) return found
  }
  return undefined
}

/** One value for both directions, or `{ toServer, toClient }` (at least one of them). */
const perDirection = (check: Check): Check => (field, value) => {
  if (!isObject(value)) return check(field, value)
  if (value["toServer"] === undefined && value["toClient"] === undefined) {
    return problem(field, "a value or { toServer, toClient }", value, "type")
  }
  return fields(field, value, { toServer: check, toClient: check })
}

const address: Check = (field, value) =>
  typeof value === "string" && isIP(value) !== 0 ? undefined : problem(field, "an IP address", value, "type")

/** The addresses of a host table entry: one IP address or a non-empty list of them. */
export const checkAddresses: Check = (field, value) => {
  if (!Array.isArray(value)) return address(field, value)
  if (value.length === 0) return problem(field, "an IP address or a non-empty list of them", value, "range")
  for (let i = 0; i < value.length; i++) {
    const found = address(`${field}[${i}]`, value[i])
    if (found !== undefined) return found
  }
  return undefined
}

const faultChecks: Readonly<Record<string, Check>> = {
  match: (field, value) =>
    fields(field, value, { host: nonEmptyString, port, path: nonEmptyString, client: nonEmptyString }),
  slice: perDirection(count(0)),
  latency: perDirection(millis),
  bandwidth: perDirection(
    number("a finite number of bytes per second > 0", (n) => Number.isFinite(n) && n > 0)
  ),
  refuse: boolean,
  resetAfter: perDirection(count(0)),
  slowClose: millis
}

/** Checks one fault rule (`field` names it: `faults[2]`, or `fault` for one injected later). */
export const checkFault = (field: string, value: unknown): Problem | undefined => {
  try {
    return fields(field, value, faultChecks)
  } catch (error) {
    return { field, detail: `reading it threw ${show(error)}`, kind: "type" }
  }
}

const optionChecks: Readonly<Record<string, Check>> = {
  seed: number("an integer", (n) => Number.isSafeInteger(n)),
  hosts: (field, value) => {
    if (!isObject(value)) return problem(field, "an object of host names to addresses", value, "type")
    for (const name of Object.keys(value)) {
      if (name.length === 0) return problem(`${field}[""]`, "a non-empty host name", name, "range")
      const found = checkAddresses(`${field}[${JSON.stringify(name)}]`, value[name])
      if (found !== undefined) return found
    }
    return undefined
  },
  bufferSize: count(1),
  ephemeralPorts: (field, value) => {
    if (!Array.isArray(value) || value.length !== 2) return problem(field, "[first, last] ports", value, "type")
    const found = port(`${field}[0]`, value[0]) ?? port(`${field}[1]`, value[1])
    if (found !== undefined) return found
    return (value[0] as number) <= (value[1] as number)
      ? undefined
      : problem(field, "[first, last] with first ≤ last", value, "range")
  },
  trace: boolean,
  faults: (field, value) => {
    if (!Array.isArray(value)) return problem(field, "an array of faults", value, "type")
    for (let i = 0; i < value.length; i++) {
      const found = checkFault(`${field}[${i}]`, value[i])
      if (found !== undefined) return found
    }
    return undefined
  },
  retransmissionTimeout: number(
    "a number of milliseconds ≥ 0 (Infinity: never)",
    (n) => !Number.isNaN(n) && n >= 0
  ),
  nagle: boolean,
  onTrace: (field, value) => typeof value === "function" ? undefined : problem(field, "a function", value, "type"),
  stallTimeout: number("a number of milliseconds > 0 (Infinity: off)", (n) => n > 0),
  paths: (field, value) =>
    isObject(value) && typeof value["kind"] === "function"
      ? undefined
      : problem(field, "paths ({ kind })", value, "type"),
  timers: (field, value) =>
    isObject(value) && typeof value["now"] === "function" && typeof value["schedule"] === "function"
      ? undefined
      : problem(field, "timers ({ now, schedule })", value, "type")
}

/** Checks a network's options (`undefined` is no options); returns the first problem. */
export const checkOptions = (options: unknown): Problem | undefined => {
  if (options === undefined) return undefined
  if (!isObject(options)) return problem("options", "an object", options, "type")
  try {
    return fields("", options, optionChecks)
  } catch (error) {
    // a proxy whose keys cannot be listed, or the like
    return { field: "options", detail: `reading them threw ${show(error)}`, kind: "type" }
  }
}

/** The error `MemoryNetwork.make` throws for a problem: a `TypeError` or a `RangeError` naming the field. */
export const thrown = (problem: Problem, what: string): Error => {
  const message = `${what}: ${problem.field}: ${problem.detail}`
  return problem.kind === "type" ? new TypeError(message) : new RangeError(message)
}
