/**
 * Node's argument validators (`lib/internal/validators.js`), throwing the same
 * `ERR_*` errors.
 */
import * as Address from "@sluice/core/Address"
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, ERR_SOCKET_BAD_PORT } from "../errors.ts"

/** `validateNumber(value, name[, min[, max]])` */
export function validateNumber(value: unknown, name: string, min?: number, max?: number): asserts value is number {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value)
  if (
    (min != null && value < min) || (max != null && value > max)
    || ((min != null || max != null) && Number.isNaN(value))
  ) {
    throw ERR_OUT_OF_RANGE(
      name,
      `${min != null ? `>= ${min}` : ""}${min != null && max != null ? " && " : ""}${max != null ? `<= ${max}` : ""}`,
      value
    )
  }
}

/** `validateInt32(value, name[, min[, max]])` */
export function validateInt32(
  value: unknown,
  name: string,
  min = -2147483648,
  max = 2147483647
): asserts value is number {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value)
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value)
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value)
}

/** `validateUint32(value, name[, positive])` */
export function validateUint32(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value)
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value)
  const min = positive ? 1 : 0
  const max = 4294967295
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value)
}

/** `validateBoolean(value, name)` */
export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") throw ERR_INVALID_ARG_TYPE(name, "boolean", value)
}

/** `validateString(value, name)` */
export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") throw ERR_INVALID_ARG_TYPE(name, "string", value)
}

/** `validateStringWithoutNullBytes(value, name)` */
export function validateStringWithoutNullBytes(value: unknown, name: string): asserts value is string {
  validateString(value, name)
  if (value.includes("\u0000")) throw ERR_INVALID_ARG_VALUE(name, value, "must be a string without null bytes")
}

/** `validateOneOf(value, name, oneOf)` */
export function validateOneOf<T>(value: unknown, name: string, oneOf: ReadonlyArray<T>): asserts value is T {
  if (!oneOf.includes(value as T)) {
    const allowed = oneOf.map((v) => (typeof v === "string" ? `'${v}'` : String(v))).join(", ")
    throw ERR_INVALID_ARG_VALUE(name, value, `must be one of: ${allowed}`)
  }
}

/** `validateFunction(value, name)` */
export function validateFunction(value: unknown, name: string): asserts value is (...args: Array<never>) => unknown {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, "Function", value)
}

/** `validateObject(value, name)` (plain objects, not arrays, not null) */
export function validateObject(value: unknown, name: string): asserts value is object {
  if (value === null || Array.isArray(value) || typeof value !== "object") {
    throw ERR_INVALID_ARG_TYPE(name, "Object", value)
  }
}

/** `validateAbortSignal(signal, name)` */
export function validateAbortSignal(signal: unknown, name: string): void {
  if (
    signal !== undefined
    && (signal === null || typeof signal !== "object" || !("aborted" in signal))
  ) {
    throw ERR_INVALID_ARG_TYPE(name, "AbortSignal", signal)
  }
}

/** `validatePort(port[, name[, allowZero]])`: returns the port as a number. */
export const validatePort = (port: unknown, name = "Port", allowZero = true): number => {
  if (
    (typeof port !== "number" && typeof port !== "string")
    || (typeof port === "string" && port.trim().length === 0)
    || +port !== (+port >>> 0)
    || +port > 0xFFFF
    || (+port === 0 && !allowZero)
  ) {
    throw ERR_SOCKET_BAD_PORT(name, port, allowZero)
  }
  return +port | 0
}

const TIMEOUT_MAX = 2 ** 31 - 1

/** `getTimerDuration(msecs, name)` of `lib/internal/timers.js` */
export const getTimerDuration = (msecs: unknown, name: string): number => {
  validateNumber(msecs, name)
  if (msecs < 0 || !Number.isFinite(msecs)) throw ERR_OUT_OF_RANGE(name, "a non-negative finite number", msecs)
  if (msecs > TIMEOUT_MAX) {
    process.emitWarning(
      `${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to ${TIMEOUT_MAX}.`,
      "TimeoutOverflowWarning"
    )
    return TIMEOUT_MAX
  }
  return msecs
}

/** `isIP(input)` of `lib/internal/net.js`: the input is turned into a string first, as its regular expressions do. */
export const isIP = (input: unknown): 0 | 4 | 6 => Address.isIP(`${input as string}`)
