/**
 * The throwaway certificates parse as X.509 (Node's own parser), say what
 * they were asked to say, and chain as asked: what the TLS tests rely on.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Certificates from "@sluice/node-adapter/Certificates"
import * as crypto from "node:crypto"

describe("Certificates", () => {
  it("an authority issues certificates that chain to it, for the hosts asked", () => {
    const ca = Certificates.authority({ commonName: "Unit CA" })
    const caX509 = new crypto.X509Certificate(ca.cert)
    assert.isTrue(caX509.ca)
    assert.strictEqual(caX509.subject, "CN=Unit CA")
    assert.isTrue(caX509.verify(caX509.publicKey))
    const leaf = ca.issue({ hosts: ["localhost", "127.0.0.1", "::1", "*.wild.test"] })
    const x509 = new crypto.X509Certificate(leaf.cert)
    assert.isFalse(x509.ca)
    assert.strictEqual(x509.subject, "CN=localhost")
    assert.strictEqual(x509.issuer, "CN=Unit CA")
    assert.isTrue(x509.checkIssued(caX509))
    assert.isTrue(x509.verify(caX509.publicKey))
    assert.strictEqual(
      x509.subjectAltName,
      "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:*.wild.test"
    )
    assert.strictEqual(x509.checkHost("localhost"), "localhost")
    assert.strictEqual(x509.checkIP("::1"), "::1")
    assert.strictEqual(x509.checkHost("a.wild.test"), "*.wild.test")
    assert.isUndefined(x509.checkHost("other.test"))
    // the key is the certificate's
    assert.isTrue(x509.checkPrivateKey(crypto.createPrivateKey(leaf.key)))
    assert.notStrictEqual(leaf.key, ca.key)
  })

  it("validity periods are as asked: expired, not yet valid, and after 2049 (GeneralizedTime)", () => {
    const ca = Certificates.authority()
    const day = 86_400_000
    const past = ca.issue({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) })
    assert.isBelow(new Date(new crypto.X509Certificate(past.cert).validTo).getTime(), Date.now())
    const later = new Date(Date.UTC(2051, 5, 1, 12, 0, 0))
    const long = ca.issue({ notAfter: later })
    assert.strictEqual(new Date(new crypto.X509Certificate(long.cert).validTo).getTime(), later.getTime())
  })

  it("a self-signed certificate is its own issuer, and no authority", () => {
    const self = Certificates.selfSigned({ hosts: ["localhost"], commonName: "alone" })
    const x509 = new crypto.X509Certificate(self.cert)
    assert.strictEqual(x509.subject, "CN=alone")
    assert.strictEqual(x509.issuer, "CN=alone")
    assert.isFalse(x509.ca)
    assert.isTrue(x509.verify(x509.publicKey))
  })

  it("two authorities are distinct: one does not vouch for the other's certificates", () => {
    const a = Certificates.authority({ commonName: "A" })
    const b = Certificates.authority({ commonName: "A" })
    const byA = new crypto.X509Certificate(a.issue().cert)
    assert.isFalse(byA.verify(new crypto.X509Certificate(b.cert).publicKey))
    assert.notStrictEqual(byA.serialNumber, new crypto.X509Certificate(a.issue().cert).serialNumber)
  })
})
