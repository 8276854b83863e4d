/**
 * Checks the TLS options of each side, field by field, into the settings a
 * provider receives. A bad option is a message naming the field and the value
 * (`tls.minVersion: expected one of "TLSv1.2", "TLSv1.3", ..., got "TLSv9"`),
 * reported by the callers as `InvalidOptions`. Unknown fields are refused:
 * a misspelt security option (`rejectUnauthorised`) must not be ignored.
 */
import type { ClientOptions, ClientSettings, Credentials, ServerOptions, ServerSettings, Version } from "../Tls.ts"
import * as Options from "./options.ts"
import { show } from "./show.ts"

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
/** Durations are checked by `timeoutOf`. */
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

/**
 * The fields of `record` read once each into a copy (what is checked is what
 * is used), or the message naming the first bad one; unknown fields
 * included, a getter that throws too.
 */
const readFields = (
  record: Record<string, unknown>,
  checks: Readonly<Record<string, Check>>,
  prefix: string
): Record<string, unknown> | string => {
  const out: Record<string, unknown> = {}
  let key = ""
  try {
    for (key of Object.keys(record)) {
      const value = record[key]
      if (value === undefined) continue
      // own entries only: a field named like a prototype member ("toString") is unknown
      const check = Object.hasOwn(checks, key) ? checks[key] : undefined
      if (check === undefined) return `${prefix}${key}: unknown TLS option (known: ${Object.keys(checks).join(", ")})`
      const expected = check(value)
      if (expected !== undefined) return `${prefix}${key}: ${expected}, got ${show(value)}`
      out[key] = value
    }
  } catch (error) {
    return `${prefix}${key}: reading it threw ${show(error)}`
  }
  return out
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

/** A handshake timeout in milliseconds (`0` and `Infinity`: none, as every timeout), or the message. */
const timeoutOf = (input: unknown, prefix: string, fallback: number | undefined): number | undefined | string => {
  if (input === undefined) return fallback
  const ms = Options.timeout.parse(input)
  if (ms instanceof Options.Invalid) return `${prefix}handshakeTimeout: ${ms.message}`
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * The client side's options checked (`prefix` names where they sit, `"tls."`
 * in `Network.connect`), or the message naming the first bad one.
 */
export const checkClient = (options: unknown, prefix: string): Checked<ClientSettings> | string => {
  if (!isRecord(options)) {
    return `${prefix.slice(0, -1) || "options"}: expected an object of TLS options, got ${show(options)}`
  }
  const read = readFields(options, clientChecks, prefix)
  if (typeof read === "string") return read
  const bad = checkPairs(read, prefix)
  if (bad !== undefined) return bad
  const { handshakeTimeout, ...settings } = read
  const ms = timeoutOf(handshakeTimeout, prefix, undefined)
  if (typeof ms === "string") return ms
  return { settings: settings as ClientSettings, handshakeTimeoutMs: ms }
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
  const read = readFields(options, serverChecks, prefix)
  if (typeof read === "string") return read
  const bad = checkPairs(read, prefix)
  if (bad !== undefined) return bad
  if (read.key === undefined) return `${prefix}key: a server needs a private key and its certificate (key, cert)`
  const sni = read.sni
  let names: Record<string, Record<string, unknown>> | undefined
  if (sni !== undefined) {
    if (!isRecord(sni)) return `${prefix}sni: expected an object of server name → credentials, got ${show(sni)}`
    names = {}
    for (const name of Object.keys(sni)) {
      if (name === "" || !/^[A-Za-z0-9*._-]+$/.test(name)) {
        return `${prefix}sni: expected host names (wildcards as "*.example.com"), got ${JSON.stringify(name)}`
      }
      const where = `${prefix}sni[${JSON.stringify(name)}].`
      let credentials: unknown
      try {
        credentials = sni[name]
      } catch (error) {
        return `${where.slice(0, -1)}: reading it threw ${show(error)}`
      }
      if (!isRecord(credentials)) return `${where.slice(0, -1)}: expected { key, cert }, got ${show(credentials)}`
      const entry = readFields(credentials, credentialChecks, where)
      if (typeof entry === "string") return entry
      const wrong = checkPairs(entry, where)
      if (wrong !== undefined) return wrong
      if (entry.key === undefined) return `${where}key: a server name needs a private key and its certificate`
      names[name] = entry
    }
  }
  const { handshakeTimeout, ...settings } = read
  const ms = timeoutOf(handshakeTimeout, prefix, defaultServerHandshakeTimeoutMs)
  if (typeof ms === "string") return ms
  if (names !== undefined) settings.sni = names
  return { settings: settings as unknown as ServerSettings, handshakeTimeoutMs: ms }
}

/** The `tls` row of `connect`'s options table: the client side's options, checked. */
export const clientField: Options.Field<Checked<ClientSettings>> = {
  parse: (u) => {
    const checked = checkClient(u, "tls.")
    return typeof checked === "string" ? new Options.Invalid(checked, true) : checked
  },
  only: undefined
}

/** The `tls` row of `listen`'s options table: the server side's options, checked. */
export const serverField: Options.Field<Checked<ServerSettings>> = {
  parse: (u) => {
    const checked = checkServer(u, "tls.")
    return typeof checked === "string" ? new Options.Invalid(checked, true) : checked
  },
  only: undefined
}
