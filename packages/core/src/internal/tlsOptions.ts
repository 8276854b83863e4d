/**
 * Checks the TLS options of each side, field by field, into the settings a
 * provider receives. A bad option is a message naming the field and the value
 * (`tls.minVersion: expected one of "TLSv1.2", "TLSv1.3", ..., got "TLSv9"`),
 * reported by the callers as `InvalidOptions`. Unknown fields are refused:
 * a misspelt security option (`rejectUnauthorised`) must not be ignored.
 */
import type * as Duration from "effect/Duration"
import type { ClientOptions, ClientSettings, Credentials, ServerOptions, ServerSettings, Version } from "../Tls.ts"
import { millisOrMessage } from "./duration.ts"

/** `undefined` when the value is acceptable, else what was expected. */
type Check = (u: unknown) => string | undefined

const versions: ReadonlyArray<Version> = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

const isPem = (u: unknown): boolean =>
  (typeof u === "string" && u.length > 0) || (u instanceof Uint8Array && u.length > 0)

const pem: Check = (u) =>
  isPem(u) || (Array.isArray(u) && u.length > 0 && u.every(isPem))
    ? undefined
    : "expected PEM text or DER bytes, or a non-empty array of them"

const nonEmptyString: Check = (u) => typeof u === "string" && u.length > 0 ? undefined : "expected a non-empty string"
const string: Check = (u) => typeof u === "string" ? undefined : "expected a string"
const boolean: Check = (u) => typeof u === "boolean" ? undefined : "expected a boolean"
const fn: Check = (u) => typeof u === "function" ? undefined : "expected a function"
const version: Check = (u) =>
  versions.includes(u as Version) ? undefined : `expected one of ${versions.map((v) => `"${v}"`).join(", ")}`
const alpn: Check = (u) =>
  Array.isArray(u) && u.length > 0 && u.every((p) => typeof p === "string" && p.length > 0 && p.length <= 255)
    ? undefined
    : "expected a non-empty array of protocol names (1 to 255 characters each)"
/** Durations are checked by `millisOrMessage`. */
const duration: Check = () => undefined

const credentialChecks: Readonly<Record<keyof Credentials, Check>> = {
  key: pem,
  cert: pem,
  passphrase: string,
  ca: pem
}

const common = {
  ca: pem,
  cert: pem,
  key: pem,
  passphrase: string,
  rejectUnauthorized: boolean,
  minVersion: version,
  maxVersion: version,
  ciphers: nonEmptyString,
  alpnProtocols: alpn,
  handshakeTimeout: duration
} as const

const clientChecks: Readonly<Record<keyof ClientOptions, Check>> = {
  ...common,
  servername: nonEmptyString,
  checkServerIdentity: fn
}

const serverChecks: Readonly<Record<keyof ServerOptions, Check>> = {
  ...common,
  requestCert: boolean,
  sni: () => undefined
}

const show = (u: unknown): string =>
  typeof u === "string"
    ? JSON.stringify(u)
    : u instanceof Uint8Array
    ? `${u.length} bytes`
    : Array.isArray(u)
    ? `an array of ${u.length}`
    : typeof u === "function"
    ? "a function"
    : typeof u === "object" && u !== null
    ? "an object"
    : String(u)

/** The first bad field of `record` against `checks`, as a message; unknown fields included. */
const checkFields = (
  record: Record<string, unknown>,
  checks: Readonly<Record<string, Check>>,
  prefix: string
): string | undefined => {
  for (const key of Object.keys(record)) {
    const value = record[key]
    // own entries only: a field named like a prototype member ("toString") is unknown
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined
    if (check === undefined) {
      if (value === undefined) continue
      return `${prefix}${key}: unknown TLS option (known: ${Object.keys(checks).join(", ")})`
    }
    if (value === undefined) continue
    const expected = check(value)
    if (expected !== undefined) return `${prefix}${key}: ${expected}, got ${show(value)}`
  }
  return undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array)

/** Key and certificate go together; the versions are in order. */
const checkPairs = (o: Record<string, unknown>, prefix: string): string | undefined => {
  if ((o.key === undefined) !== (o.cert === undefined)) {
    return o.key === undefined
      ? `${prefix}cert: a certificate needs its private key (key)`
      : `${prefix}key: a private key needs its certificate (cert)`
  }
  if (o.minVersion !== undefined && o.maxVersion !== undefined) {
    const min = versions.indexOf(o.minVersion as Version)
    const max = versions.indexOf(o.maxVersion as Version)
    if (min > max) return `${prefix}minVersion: ${String(o.minVersion)} is above maxVersion ${String(o.maxVersion)}`
  }
  return undefined
}

/** Checked options: the settings for the provider and the handshake deadline. */
export interface Checked<S> {
  readonly settings: S
  /** `undefined`: no deadline of its own. */
  readonly handshakeTimeoutMs: number | undefined
}

const timeoutOf = (input: Duration.Input | undefined, prefix: string, fallback: number | undefined) => {
  if (input === undefined) return fallback
  return millisOrMessage(`${prefix}handshakeTimeout`, input)
}

/**
 * The client side's options checked (`prefix` names where they sit, `"tls."`
 * in `Network.connect`), or the message naming the first bad one.
 */
export const checkClient = (options: unknown, prefix: string): Checked<ClientSettings> | string => {
  if (!isRecord(options)) {
    return `${prefix.slice(0, -1) || "options"}: expected an object of TLS options, got ${show(options)}`
  }
  const bad = checkFields(options, clientChecks, prefix) ?? checkPairs(options, prefix)
  if (bad !== undefined) return bad
  const o = options as ClientOptions
  const ms = timeoutOf(o.handshakeTimeout, prefix, undefined)
  if (typeof ms === "string") return ms
  const { handshakeTimeout: _, ...settings } = o
  return { settings, handshakeTimeoutMs: ms }
}

/** Node's default: a server drops a connection whose handshake takes longer than 120 seconds. */
export const defaultServerHandshakeTimeoutMs = 120_000

/**
 * The server side's options checked (a key and certificate are required; SNI
 * entries are credentials), or the message naming the first bad one.
 */
export const checkServer = (options: unknown, prefix: string): Checked<ServerSettings> | string => {
  if (!isRecord(options)) {
    return `${prefix.slice(0, -1) || "options"}: expected an object of TLS options, got ${show(options)}`
  }
  const bad = checkFields(options, serverChecks, prefix) ?? checkPairs(options, prefix)
  if (bad !== undefined) return bad
  if (options.key === undefined) return `${prefix}key: a server needs a private key and its certificate (key, cert)`
  const sni = options.sni
  if (sni !== undefined) {
    if (!isRecord(sni)) return `${prefix}sni: expected an object of server name → credentials, got ${show(sni)}`
    for (const name of Object.keys(sni)) {
      const credentials = sni[name]
      if (name === "" || !/^[A-Za-z0-9*._-]+$/.test(name)) {
        return `${prefix}sni: expected host names (wildcards as "*.example.com"), got ${JSON.stringify(name)}`
      }
      const where = `${prefix}sni[${JSON.stringify(name)}].`
      if (!isRecord(credentials)) return `${where.slice(0, -1)}: expected { key, cert }, got ${show(credentials)}`
      const wrong = checkFields(credentials, credentialChecks, where) ?? checkPairs(credentials, where)
      if (wrong !== undefined) return wrong
      if (credentials.key === undefined) return `${where}key: a server name needs a private key and its certificate`
    }
  }
  const o = options as unknown as ServerOptions
  const ms = timeoutOf(o.handshakeTimeout, prefix, defaultServerHandshakeTimeoutMs)
  if (typeof ms === "string") return ms
  const { handshakeTimeout: _, ...settings } = o
  return { settings, handshakeTimeoutMs: ms }
}
