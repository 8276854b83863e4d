/**
 * Node's errors, reproduced: the `ERR_*` validation errors of `lib/internal/errors.js`
 * (same class, `code` and message text) and the system errors a socket emits
 * (`connect ECONNREFUSED 127.0.0.1:9`, with `errno`, `code`, `syscall`,
 * `address`, `port` in Node's order), built from the engine's driver errors.
 *
 * @since 0.1.0
 */
import type { DriverError } from "@sluice/core/Driver"
import { errnoOf, errnoTable } from "@sluice/core/Errno"

// as `require` gives it: an ESM import of node:util reads (and so loads) every lazy export
const util = process.getBuiltinModule("node:util")

type ErrorBase = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor

/**
 * An error carrying a Node error `code`.
 *
 * @category models
 * @since 0.1.0
 */
export interface NodeError extends Error {
  code: string
}

const make = (Base: ErrorBase, code: string, message: string): NodeError => {
  const error = new Base(message) as NodeError
  Object.defineProperty(error, "toString", {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`
    },
    enumerable: false,
    writable: true,
    configurable: true
  })
  error.code = code
  return error
}

const kTypes = ["string", "function", "number", "object", "Function", "Object", "boolean", "bigint", "symbol"]
const classRegExp = /^(?:[A-Z][a-z0-9]*)+$/

/**
 * Node's short description of a value in error messages (`type number (70000)`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const determineSpecificType = (value: unknown): string => {
  if (value === null) return "null"
  if (value === undefined) return "undefined"
  switch (typeof value) {
    case "bigint":
      return `type bigint (${value}n)`
    case "number":
      if (value === 0) return 1 / value === -Infinity ? "type number (-0)" : "type number (0)"
      if (Number.isNaN(value)) return "type number (NaN)"
      if (value === Infinity) return "type number (Infinity)"
      if (value === -Infinity) return "type number (-Infinity)"
      return `type number (${value})`
    case "boolean":
      return value ? "type boolean (true)" : "type boolean (false)"
    case "symbol":
      return `type symbol (${String(value)})`
    case "function":
      return `function ${(value as { name: string }).name}`
    case "object": {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor
      if (ctor !== undefined && ctor !== null && "name" in ctor) return `an instance of ${String(ctor.name)}`
      return util.inspect(value, { depth: -1 })
    }
    case "string": {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value
      if (!s.includes("'")) return `type string ('${s}')`
      return `type string (${JSON.stringify(s)})`
    }
    default: {
      let s = util.inspect(value, { colors: false })
      if (s.length > 28) s = `${s.slice(0, 25)}...`
      return `type ${typeof value} (${s})`
    }
  }
}

const list = (items: Array<string>, word: string): string => {
  if (items.length > 2) {
    const last = items.pop()
    return `${word}${items.join(", ")}, or ${last}`
  }
  if (items.length === 2) return `${word}${items[0]} or ${items[1]}`
  return `${word}${items[0]}`
}

/**
 * `ERR_INVALID_ARG_TYPE` (`TypeError`).
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_ARG_TYPE = (
  name: string,
  expected: string | ReadonlyArray<string>,
  actual: unknown
): NodeError => {
  const expectedList = typeof expected === "string" ? [expected] : [...expected]
  let msg = "The "
  if (name.endsWith(" argument")) msg += `${name} `
  else msg += `"${name}" ${name.includes(".") ? "property" : "argument"} `
  msg += "must be "
  const types: Array<string> = []
  const instances: Array<string> = []
  const other: Array<string> = []
  for (const value of expectedList) {
    if (kTypes.includes(value)) types.push(value.toLowerCase())
    else if (classRegExp.test(value)) instances.push(value)
    else other.push(value)
  }
  if (instances.length > 0) {
    const pos = types.indexOf("object")
    if (pos !== -1) {
      types.splice(pos, 1)
      instances.push("Object")
    }
  }
  if (types.length > 0) {
    msg += types.length === 1 ? `of type ${types[0]}` : list(types, "one of type ")
    if (instances.length > 0 || other.length > 0) msg += " or "
  }
  if (instances.length > 0) {
    if (instances.length > 2) msg += list(instances, "an instance of ")
    else {
      msg += `an instance of ${instances[0]}`
      if (instances.length === 2) msg += ` or ${instances[1]}`
    }
    if (other.length > 0) msg += " or "
  }
  if (other.length > 0) {
    if (other.length > 1) msg += list(other, "one of ")
    else {
      if (other[0]!.toLowerCase() !== other[0]) msg += "an "
      msg += other[0]
    }
  }
  msg += `. Received ${determineSpecificType(actual)}`
  return make(TypeError, "ERR_INVALID_ARG_TYPE", msg)
}

/**
 * `ERR_INVALID_ARG_VALUE` (`TypeError`, or `RangeError` when asked).
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_ARG_VALUE = (
  name: string,
  value: unknown,
  reason = "is invalid",
  Base: ErrorBase = TypeError
): NodeError => {
  let inspected = util.inspect(value)
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`
  const type = name.includes(".") ? "property" : "argument"
  return make(Base, "ERR_INVALID_ARG_VALUE", `The ${type} '${name}' ${reason}. Received ${inspected}`)
}

const addNumericalSeparator = (val: string): string => {
  let res = ""
  let i = val.length
  const start = val[0] === "-" ? 1 : 0
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`
  return `${val.slice(0, i)}${res}`
}

/**
 * `ERR_OUT_OF_RANGE` (`RangeError`).
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_OUT_OF_RANGE = (str: string, range: string, input: unknown): NodeError => {
  let received: string
  if (Number.isInteger(input) && Math.abs(input as number) > 2 ** 32) {
    received = addNumericalSeparator(String(input))
  } else if (typeof input === "bigint") {
    received = String(input)
    if (input > 2n ** 32n || input < -(2n ** 32n)) received = addNumericalSeparator(received)
    received += "n"
  } else received = util.inspect(input)
  return make(
    RangeError,
    "ERR_OUT_OF_RANGE",
    `The value of "${str}" is out of range. It must be ${range}. Received ${received}`
  )
}

/**
 * `ERR_SOCKET_BAD_PORT` (`RangeError`).
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_SOCKET_BAD_PORT = (name: string, port: unknown, allowZero = true): NodeError =>
  make(
    RangeError,
    "ERR_SOCKET_BAD_PORT",
    `${name} should be ${allowZero ? ">=" : ">"} 0 and < 65536. Received ${determineSpecificType(port)}.`
  )

/**
 * `ERR_MISSING_ARGS` (`TypeError`).
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_MISSING_ARGS = (...args: ReadonlyArray<string | ReadonlyArray<string>>): NodeError => {
  const wrap = (a: string) => `"${a}"`
  const names = args.map((a) => (typeof a === "string" ? wrap(a) : a.map(wrap).join(" or ")))
  let msg = "The "
  if (names.length === 1) msg += `${names[0]} argument`
  else if (names.length === 2) msg += `${names[0]} and ${names[1]} arguments`
  else {
    const last = names.pop()
    msg += `${names.join(", ")}, and ${last} arguments`
  }
  return make(TypeError, "ERR_MISSING_ARGS", `${msg} must be specified`)
}

/**
 * The fixed-message errors of `node:net`.
 *
 * @category validation
 * @since 0.1.0
 */
export const ERR_SERVER_ALREADY_LISTEN = (): NodeError =>
  make(Error, "ERR_SERVER_ALREADY_LISTEN", "Listen method has been called more than once without closing.")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_SERVER_NOT_RUNNING = (): NodeError => make(Error, "ERR_SERVER_NOT_RUNNING", "Server is not running.")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_SOCKET_CLOSED = (): NodeError => make(Error, "ERR_SOCKET_CLOSED", "Socket is closed")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_SOCKET_CLOSED_BEFORE_CONNECTION = (): NodeError =>
  make(Error, "ERR_SOCKET_CLOSED_BEFORE_CONNECTION", "Socket closed before the connection was established")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_SOCKET_CONNECTION_TIMEOUT = (): NodeError =>
  make(Error, "ERR_SOCKET_CONNECTION_TIMEOUT", "Socket connection timeout")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_IP_ADDRESS = (ip: unknown): NodeError =>
  make(TypeError, "ERR_INVALID_IP_ADDRESS", util.format("Invalid IP address: %s", ip))

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_ADDRESS_FAMILY = (family: unknown, host: unknown, port: unknown): NodeError => {
  const error = make(
    RangeError,
    "ERR_INVALID_ADDRESS_FAMILY",
    `Invalid address family: ${String(family)} ${String(host)}:${String(port)}`
  )
  // as Node's: the host and port asked for, after `code`
  return Object.assign(error, { host, port })
}

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_IP_BLOCKED = (ip: string): NodeError =>
  make(Error, "ERR_IP_BLOCKED", `IP(${ip}) is blocked by net.BlockList`)

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_HANDLE_TYPE = (): NodeError =>
  make(TypeError, "ERR_INVALID_HANDLE_TYPE", "This handle type cannot be sent")

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_INVALID_FD_TYPE = (type: string): NodeError =>
  make(TypeError, "ERR_INVALID_FD_TYPE", `Unsupported fd type: ${type}`)

/**
 * @category validation
 * @since 0.1.0
 */
export const ERR_SERVER_ALREADY_CLOSED = ERR_SERVER_NOT_RUNNING

/**
 * Node's `AbortError` (`code: "ABORT_ERR"`).
 *
 * @category validation
 * @since 0.1.0
 */
export class AbortError extends Error {
  code: string
  constructor(message = "The operation was aborted", options?: { cause?: unknown }) {
    super(message, options)
    this.code = "ABORT_ERR"
    this.name = "AbortError"
  }
}

/**
 * An error for a capability the driver lacks (`ENOTSUP`), e.g. `fd` on the
 * memory driver.
 *
 * @category validation
 * @since 0.1.0
 */
export const unsupported = (syscall: string, what: string): NodeError => {
  const error = make(Error, "ENOTSUP", `${syscall} ENOTSUP: ${what}`)
  Object.assign(error, { errno: errnoOf("ENOTSUP"), syscall })
  return error
}

// ---------------------------------------------------------------------------
// system errors
// ---------------------------------------------------------------------------

/**
 * A system error as Node builds it: an `Error` with `errno`, `code`,
 * `syscall` and, where known, `address` / `port` (or `hostname` for name
 * lookups).
 *
 * @category models
 * @since 0.1.0
 */
export interface SystemError extends NodeError {
  errno: number | undefined
  syscall: string
  address?: string
  port?: number
  hostname?: string
}

let systemErrnos: Map<string, number> | undefined
const platformErrno = (code: string): number | undefined => {
  if (systemErrnos === undefined) {
    systemErrnos = new Map()
    for (const [errno, [name]] of util.getSystemErrorMap()) systemErrnos.set(name, errno)
  }
  return systemErrnos.get(code)
}

const errnoFor = (e: DriverError): number | undefined => e.errno ?? platformErrno(e.code) ?? errnoOf(e.code)

const describeErrno = (code: string, errno: number | undefined): string => {
  if (errno !== undefined) {
    try {
      return util.getSystemErrorMessage(errno)
    } catch {
      // an errno this platform does not know
    }
  }
  return errnoTable[code]?.[1] ?? "unknown error"
}

/**
 * `ExceptionWithHostPort`: `connect ECONNREFUSED 127.0.0.1:9`, with an
 * optional ` - Local (addr:port)` suffix.
 *
 * @category system errors
 * @since 0.1.0
 */
export const exceptionWithHostPort = (
  e: DriverError,
  syscall: string = e.syscall,
  address: string | undefined = e.address,
  port: number | undefined = e.port,
  additional?: string
): SystemError => {
  let details = ""
  if (port !== undefined && port > 0) details = ` ${address}:${port}`
  else if (address) details = ` ${address}`
  if (additional) details += ` - Local (${additional})`
  const error = new Error(`${syscall} ${e.code}${details}`) as SystemError
  error.errno = errnoFor(e)
  error.code = e.code
  error.syscall = syscall
  // as Node's: `address` always set (even to `undefined`), `port` when truthy
  error.address = address as string
  if (port) error.port = port
  return error
}

/**
 * `UVExceptionWithHostPort` (listen errors):
 * `listen EADDRINUSE: address already in use 127.0.0.1:8000`.
 *
 * @category system errors
 * @since 0.1.0
 */
export const uvExceptionWithHostPort = (
  e: DriverError,
  syscall: string,
  address: string | null | undefined,
  port: number | undefined
): SystemError => {
  const errno = errnoFor(e)
  let details = ""
  if (port !== undefined && port > 0) details = ` ${address}:${port}`
  else if (address) details = ` ${address}`
  const error = new Error(`${syscall} ${e.code}: ${describeErrno(e.code, errno)}${details}`) as SystemError
  error.code = e.code
  error.errno = errno
  error.syscall = syscall
  error.address = address as string
  if (port) error.port = port
  return error
}

/**
 * `ErrnoException`: `read ECONNRESET`, with `errno`, `code`, `syscall`.
 *
 * @category system errors
 * @since 0.1.0
 */
export const errnoException = (e: DriverError, syscall: string = e.syscall): SystemError => {
  const error = new Error(`${syscall} ${e.code}`) as SystemError
  error.errno = errnoFor(e)
  error.code = e.code
  error.syscall = syscall
  return error
}

/**
 * `ErrnoException` from a libuv status (a negative errno, as a handle's
 * methods return it): `address EBADF`.
 *
 * @category system errors
 * @since 0.1.0
 */
export const uvErrnoException = (status: number, syscall: string): SystemError => {
  let code: string
  try {
    code = util.getSystemErrorName(status)
  } catch {
    code = "UNKNOWN"
  }
  return errnoException({ code, errno: status, syscall }, syscall)
}

/**
 * `DNSException`: `getaddrinfo ENOTFOUND nowhere.invalid`, with `errno`,
 * `code`, `syscall`, `hostname`.
 *
 * @category system errors
 * @since 0.1.0
 */
export const dnsException = (e: DriverError, hostname: string | undefined): SystemError => {
  const code = e.code === "EAI_NODATA" || e.code === "EAI_NONAME" ? "ENOTFOUND" : e.code
  const error = new Error(`${e.syscall} ${code}${hostname ? ` ${hostname}` : ""}`) as SystemError
  error.errno = errnoFor(e)
  error.code = code
  error.syscall = e.syscall
  if (hostname) error.hostname = hostname
  return error
}

/**
 * The error to surface for a lookup failure: the original error when a user
 * `lookup` produced one (Node passes it through unchanged), else a
 * `DNSException`.
 *
 * @category system errors
 * @since 0.1.0
 */
export const lookupError = (e: DriverError, hostname: string): Error =>
  e.syscall === "lookup" && e.cause instanceof Error ? e.cause : dnsException(e, hostname)
