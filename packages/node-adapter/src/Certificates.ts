/**
 * Throwaway certificates for tests and examples: a certificate authority made
 * in memory, and certificates it issues for host names and IP addresses —
 * valid, expired, for the wrong name, self-signed — with ECDSA P-256 keys.
 * Everything is generated when asked for (a millisecond or so each, with
 * `node:crypto`, no `openssl` and no files), so no private key is ever
 * written to disk or committed.
 *
 * Node 24's `node:crypto` parses X.509 certificates but does not make them;
 * this module encodes the few DER structures a certificate needs and signs
 * them with `crypto.sign`.
 *
 * @example
 * ```ts
 * import { Certificates } from "@sluice/node-adapter"
 *
 * const ca = Certificates.authority()
 * const server = ca.issue({ hosts: ["localhost", "127.0.0.1"] })
 * // Network.listen({ port: 0, tls: { key: server.key, cert: server.cert } })
 * // Network.connect({ host: "localhost", port, tls: { ca: ca.cert } })
 * ```
 *
 * @since 0.1.0
 */
import { isIP } from "@sluice/core/Address"
import type * as Crypto from "node:crypto"

// as `require` gives it, when a certificate is first made
let cryptoModule: typeof Crypto | undefined
const crypto = (): typeof Crypto => (cryptoModule ??= process.getBuiltinModule("node:crypto"))

/**
 * A certificate and its private key, as PEM text.
 *
 * @category models
 * @since 0.1.0
 */
export interface Issued {
  readonly cert: string
  readonly key: string
}

/**
 * Options of a certificate.
 *
 * @category models
 * @since 0.1.0
 */
export interface IssueOptions {
  /**
   * The host names and IP addresses the certificate is for (its subject
   * alternative names). Default `["localhost", "127.0.0.1", "::1"]`.
   */
  readonly hosts?: ReadonlyArray<string> | undefined
  /** The subject's common name (default: the first host). */
  readonly commonName?: string | undefined
  /** Start of validity (default: an hour ago). */
  readonly notBefore?: Date | undefined
  /** End of validity (default: 30 days from now). Past it the certificate is expired. */
  readonly notAfter?: Date | undefined
}

/**
 * A certificate authority: its certificate (the `ca` to trust) and key, and
 * what it issues.
 *
 * @category models
 * @since 0.1.0
 */
export interface Authority extends Issued {
  /** Issues a certificate signed by this authority, usable by servers and clients. */
  readonly issue: (options?: IssueOptions) => Issued
}

// ---------------------------------------------------------------------------
// DER
// ---------------------------------------------------------------------------

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let size = 0
  for (const p of parts) size += p.length
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const lengthOf = (n: number): Array<number> => {
  if (n < 0x80) return [n]
  const bytes: Array<number> = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return [0x80 | bytes.length, ...bytes]
}

const tlv = (tag: number, body: Uint8Array): Uint8Array =>
  concat([Uint8Array.from([tag, ...lengthOf(body.length)]), body])
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

const sequence = (...parts: ReadonlyArray<Uint8Array>) => tlv(0x30, concat(parts))
const set = (...parts: ReadonlyArray<Uint8Array>) => tlv(0x31, concat(parts))
const boolean = (b: boolean) => tlv(0x01, Uint8Array.of(b ? 0xff : 0))
const octets = (b: Uint8Array) => tlv(0x04, b)
const bits = (b: Uint8Array, unused = 0) => tlv(0x03, concat([Uint8Array.of(unused), b]))
const utf8 = (s: string) => tlv(0x0c, text(s))
const explicit = (n: number, body: Uint8Array) => tlv(0xa0 | n, body)

/** A positive INTEGER from big-endian bytes. */
const integer = (bytes: Uint8Array): Uint8Array => {
  let b = bytes
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1)
  return tlv(0x02, (b[0]! & 0x80) === 0 ? b : concat([Uint8Array.of(0), b]))
}

const oid = (dotted: string): Uint8Array => {
  const [a, b, ...rest] = dotted.split(".").map(Number)
  const out = [a! * 40 + b!]
  for (const n of rest) {
    const group = [n & 0x7f]
    for (let v = n >>> 7; v > 0; v >>>= 7) group.unshift(0x80 | (v & 0x7f))
    out.push(...group)
  }
  return tlv(0x06, Uint8Array.from(out))
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280, 4.1.2.5). */
const time = (d: Date): Uint8Array => {
  const two = (n: number) => String(n).padStart(2, "0")
  const year = d.getUTCFullYear()
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${
    two(d.getUTCSeconds())
  }Z`
  return year >= 1950 && year < 2050 ? tlv(0x17, text(`${two(year % 100)}${rest}`)) : tlv(0x18, text(`${year}${rest}`))
}

const name = (commonName: string) => sequence(set(sequence(oid("2.5.4.3"), utf8(commonName))))

const extension = (id: string, critical: boolean, value: Uint8Array) =>
  critical ? sequence(oid(id), boolean(true), octets(value)) : sequence(oid(id), octets(value))

const ipBytes = (address: string): Uint8Array | undefined => {
  const family = isIP(address)
  if (family === 4) return Uint8Array.from(address.split(".").map(Number))
  if (family !== 6) return undefined
  const [head = "", tail] = address.split("::")
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right]
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]))
}

/** subjectAltName: dNSName [2] or iPAddress [7] for each host. */
const altNames = (hosts: ReadonlyArray<string>) =>
  sequence(...hosts.map((h) => {
    const ip = ipBytes(h)
    return ip === undefined ? tlv(0x82, text(h)) : tlv(0x87, ip)
  }))

const pem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${
    Buffer.from(der).toString("base64").match(/.{1,64}/g)?.join("\n") ?? ""
  }\n-----END ${label}-----\n`

const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"))

interface Signer {
  readonly commonName: string
  readonly key: Crypto.KeyObject
  readonly keyId: Uint8Array
}

interface Made extends Issued {
  readonly signer: Signer
}

const make = (options: {
  readonly commonName: string
  readonly authority: boolean
  readonly hosts: ReadonlyArray<string> | undefined
  readonly issuer: Signer | undefined
  readonly notBefore: Date | undefined
  readonly notAfter: Date | undefined
}): Made => {
  const { privateKey, publicKey } = crypto().generateKeyPairSync("ec", { namedCurve: "P-256" })
  const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }))
  const keyId = new Uint8Array(crypto().createHash("sha1").update(spki).digest())
  const self: Signer = { commonName: options.commonName, key: privateKey, keyId }
  const issuer = options.issuer ?? self
  const extensions = [
    extension("2.5.29.19", true, options.authority ? sequence(boolean(true)) : sequence()),
    // keyCertSign + cRLSign + digitalSignature for an authority, digitalSignature otherwise
    extension("2.5.29.15", true, options.authority ? bits(Uint8Array.of(0x86), 1) : bits(Uint8Array.of(0x80), 7)),
    extension("2.5.29.14", false, octets(keyId)),
    extension("2.5.29.35", false, sequence(tlv(0x80, issuer.keyId)))
  ]
  if (!options.authority) {
    // serverAuth and clientAuth: the same certificate serves either end of mutual TLS
    extensions.push(extension("2.5.29.37", false, sequence(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))))
  }
  if (options.hosts !== undefined && options.hosts.length > 0) {
    extensions.push(extension("2.5.29.17", false, altNames(options.hosts)))
  }
  const now = Date.now()
  const tbs = sequence(
    explicit(0, integer(Uint8Array.of(2))),
    integer(new Uint8Array(crypto().randomBytes(16))),
    ecdsaWithSha256,
    name(issuer.commonName),
    sequence(
      time(options.notBefore ?? new Date(now - 3_600_000)),
      time(options.notAfter ?? new Date(now + 30 * 86_400_000))
    ),
    name(options.commonName),
    spki,
    explicit(3, sequence(...extensions))
  )
  const signature = new Uint8Array(crypto().sign("sha256", tbs, issuer.key))
  return {
    cert: pem("CERTIFICATE", sequence(tbs, ecdsaWithSha256, bits(signature))),
    key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    signer: self
  }
}

const defaultHosts: ReadonlyArray<string> = ["localhost", "127.0.0.1", "::1"]

/**
 * A new certificate authority (default common name `"Sluice Test CA"`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const authority = (options?: {
  readonly commonName?: string | undefined
  readonly notBefore?: Date | undefined
  readonly notAfter?: Date | undefined
}): Authority => {
  const made = make({
    commonName: options?.commonName ?? "Sluice Test CA",
    authority: true,
    hosts: undefined,
    issuer: undefined,
    notBefore: options?.notBefore,
    notAfter: options?.notAfter ?? new Date(Date.now() + 365 * 86_400_000)
  })
  return {
    cert: made.cert,
    key: made.key,
    issue: (o) => {
      const hosts = o?.hosts ?? defaultHosts
      const { cert, key } = make({
        commonName: o?.commonName ?? hosts[0] ?? "localhost",
        authority: false,
        hosts,
        issuer: made.signer,
        notBefore: o?.notBefore,
        notAfter: o?.notAfter
      })
      return { cert, key }
    }
  }
}

/**
 * A self-signed certificate (its own issuer, trusted by nobody unless given
 * as `ca`): what a client refuses with `DEPTH_ZERO_SELF_SIGNED_CERT`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const selfSigned = (options?: IssueOptions): Issued => {
  const hosts = options?.hosts ?? defaultHosts
  const { cert, key } = make({
    commonName: options?.commonName ?? hosts[0] ?? "localhost",
    authority: false,
    hosts,
    issuer: undefined,
    notBefore: options?.notBefore,
    notAfter: options?.notAfter
  })
  return { cert, key }
}
