/**
 * The behaviour suite's TLS part, on every driver (real sockets through the
 * node driver and its net.Socket fallback, and the memory network): the
 * same TLS code, through `NodeTls.layer`, must behave the same everywhere.
 * Faults and virtual time on the memory network are in `TlsMemory.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import * as Tls from "@sluice/core/Tls"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { eventually, pattern, run, tcpPort, text } from "./helpers.ts"
import {
  api,
  ca,
  client,
  clientTls,
  codes,
  echo,
  exchange,
  expired,
  foreign,
  foreignClient,
  leaf,
  notYetValid,
  otherCa,
  readText,
  runTls,
  selfSigned,
  serverTls,
  tlsServer,
  wild
} from "./TlsFixtures.ts"

/** Reads from a plain socket until `line` has arrived; returns what came after it. */
const readLine = (socket: Socket.Socket, line: string) =>
  Effect.gen(function*() {
    let got = new Uint8Array(0)
    while (true) {
      const chunks = yield* socket.pull
      got = Buffer.concat([got, ...chunks])
      const at = Buffer.from(got).indexOf(line)
      if (at >= 0) return got.subarray(at + line.length)
    }
  })

for (const d of drivers) {
  describe(`TLS on the ${d.name} driver`, () => {
    it.live("a round trip; the session tells protocol, cipher, authorization and the peer's certificate", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const seen = yield* Deferred.make<Tls.Session | undefined>()
          const { port } = yield* tlsServer(d.host, serverTls, (s) =>
            Effect.andThen(Deferred.succeed(seen, s.tls), echo(s)))
          const socket = yield* Network.connect({ host: d.host, port, tls: clientTls })
          const payload = pattern(300_000, 3)
          const [, back] = yield* Effect.all([
            Effect.andThen(socket.write(payload), socket.endOfOutput),
            Stream.runCollect(socket.reads)
          ], { concurrency: 2 })
          assert.deepStrictEqual(Buffer.concat(back), Buffer.from(payload))
          // the engine counts plaintext
          assert.strictEqual(yield* socket.bytesWritten, payload.length)
          assert.strictEqual(yield* socket.bytesRead, payload.length)
          const session = socket.tls!
          assert.strictEqual(session.protocol, "TLSv1.3")
          assert.match(session.cipher, /^TLS_/)
          assert.isTrue(session.authorized)
          assert.isUndefined(session.authorizationError)
          assert.strictEqual(session.servername, "localhost")
          assert.isUndefined(session.alpnProtocol)
          assert.isFalse(session.resumed)
          const cert = session.peerCertificate!
          assert.strictEqual(cert.subject, "CN=localhost")
          assert.strictEqual(cert.issuer, "CN=Sluice Test CA")
          assert.include(cert.subjectAltName, "DNS:localhost")
          assert.isFalse(cert.ca)
          assert.isTrue(cert.validTo.getTime() > Date.now())
          assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
          assert.isTrue(cert.raw.length > 100)
          const server = (yield* Deferred.await(seen))!
          assert.strictEqual(server.servername, "localhost")
          assert.isUndefined(server.peerCertificate)
          assert.isFalse(server.authorized)
          // a plain socket has no session
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          const raw = yield* Network.connect({ host: d.host, port: tcpPort(plain.address) })
          assert.isUndefined(raw.tls)
        })
      ))

    it.live("small reads switch an encrypted socket to lent reads: readInto and pull still get every byte", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          // echoes each message as it comes: many small TLS records, then a large burst
          const { port } = yield* tlsServer(d.host, serverTls, echo, { noDelay: true })
          const socket = yield* Network.connect({ host: d.host, port, tls: clientTls, noDelay: true })
          const buffer = new Uint8Array(1024)
          for (let i = 0; i < 20; i++) {
            const message = pattern(100, i)
            yield* socket.write(message)
            let got = 0
            const back = new Uint8Array(100)
            while (got < 100) {
              const n = yield* socket.readInto(buffer)
              back.set(buffer.subarray(0, n), got)
              got += n
            }
            assert.deepStrictEqual(back, message, `message ${i}`)
          }
          const burst = pattern(200_000, 7)
          const writing = yield* Effect.forkChild(Effect.andThen(socket.write(burst), socket.endOfOutput))
          const received: Array<Uint8Array> = []
          let total = 0
          while (total < burst.length) {
            const n = yield* socket.readInto(buffer)
            received.push(buffer.slice(0, n))
            total += n
          }
          yield* Fiber.join(writing)
          assert.deepStrictEqual(Buffer.concat(received), Buffer.from(burst))
          assert.isTrue(Cause.isDone(yield* Effect.flip(socket.readInto(buffer))))
        })
      ))

    it.live("half-close: the client's close_notify and FIN end the server's reads; the server answers after", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(d.host, serverTls, (s) =>
            Effect.gen(function*() {
              const got = yield* readText(s)
              // still writing after the peer's end
              yield* s.write(`got ${got.length}`)
              yield* s.write(" bytes")
            }), { allowHalfOpen: true })
          const socket = yield* Network.connect({ host: d.host, port, tls: clientTls })
          yield* socket.write("one,")
          yield* socket.write("two")
          yield* socket.endOfOutput
          assert.strictEqual(yield* readText(socket), "got 7 bytes")
        })
      ))

    it.live("graceful close ends the peer's reads cleanly; an abort resets them", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const ends = [
            yield* Deferred.make<Exit.Exit<string, unknown>>(),
            yield* Deferred.make<Exit.Exit<string, unknown>>()
          ]
          let i = 0
          const { port } = yield* tlsServer(d.host, serverTls, (s) => {
            const done = ends[i++]!
            let got = ""
            return Stream.runForEach(s.reads, (c) =>
              Effect.andThen(
                Effect.sync(() => {
                  got += text([c])
                }),
                s.write(c)
              )).pipe(
                Effect.map(() => got),
                Effect.exit,
                Effect.flatMap((exit) => Deferred.succeed(done, exit))
              )
          })
          // the scope closes normally: close_notify and FIN
          yield* Effect.scoped(Effect.gen(function*() {
            const socket = yield* Network.connect({ host: d.host, port, tls: clientTls })
            yield* socket.write("bye")
            const pull = yield* Stream.toPull(socket.reads)
            yield* pull
          }))
          const graceful = yield* Deferred.await(ends[0]!)
          assert.isTrue(Exit.isSuccess(graceful))
          assert.strictEqual(Exit.isSuccess(graceful) ? graceful.value : "", "bye")
          // the scope fails: RST
          const socket = yield* Network.connect({ host: d.host, port, tls: clientTls })
          const failed = yield* Effect.exit(Socket.use(socket, (s) =>
            Effect.gen(function*() {
              yield* s.write("x")
              yield* s.pull
              return yield* Effect.fail("boom")
            })))
          assert.isTrue(Exit.isFailure(failed))
          const aborted = yield* Deferred.await(ends[1]!)
          assert.isTrue(Exit.isFailure(aborted))
          if (Exit.isFailure(aborted)) {
            const error = Cause.squash(aborted.cause) as { reason?: string }
            assert.strictEqual(error.reason, "ConnectionReset")
          }
        })
      ))

    it.live("close_notify then FIN: the last record before a graceful FIN is TLS's closure alert; an abort sends none", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(d.host, serverTls, (s) => Effect.exit(echo(s)))
          // a plain proxy in between records the bytes the client sends, and how they end
          const proxy = yield* Network.listen({ host: d.host, port: 0 })
          interface Seen {
            bytes: Uint8Array
            end: "fin" | "reset" | undefined
          }
          const seen: Array<Seen> = []
          yield* Effect.forkScoped(
            Stream.runForEach(proxy.accept, (inbound) =>
              Effect.forkScoped(Effect.scoped(Effect.gen(function*() {
                const record: Seen = { bytes: new Uint8Array(0), end: undefined }
                seen.push(record)
                const outbound = yield* Network.connect({ host: d.host, port })
                yield* Effect.forkScoped(Effect.ignore(Stream.run(outbound.reads, inbound.writes)))
                const up = yield* Effect.exit(Stream.runForEach(inbound.reads, (c) =>
                  Effect.andThen(
                    Effect.sync(() => {
                      record.bytes = Buffer.concat([record.bytes, c])
                    }),
                    outbound.write(c)
                  )))
                record.end = Exit.isSuccess(up) ? "fin" : "reset"
                yield* Effect.ignore(outbound.endOfOutput)
              }))))
          )
          const through = tcpPort(proxy.address)
          yield* Effect.scoped(Effect.gen(function*() {
            const socket = yield* Network.connect({ host: d.host, port: through, tls: clientTls })
            yield* socket.write("bye")
            yield* Stream.runHead(socket.reads)
          }))
          yield* eventually(() => seen[0]?.end !== undefined, "the graceful client's end")
          const socket = yield* Network.connect({ host: d.host, port: through, tls: clientTls })
          yield* Effect.exit(Socket.use(socket, (s) =>
            Effect.gen(function*() {
              yield* s.write("x")
              yield* s.pull
              return yield* Effect.fail("abort")
            })))
          yield* eventually(() => seen[1]?.end !== undefined, "the aborting client's end")
          // TLS 1.3 hides the record type: an alert (2 bytes + type + 16-byte tag) is a 19-byte record
          const lastRecord = (bytes: Uint8Array) => Array.from(bytes.subarray(bytes.length - 24, bytes.length - 19))
          assert.strictEqual(seen[0]!.end, "fin")
          assert.deepStrictEqual(lastRecord(seen[0]!.bytes), [0x17, 0x03, 0x03, 0x00, 0x13])
          assert.strictEqual(seen[1]!.end, "reset")
          assert.notDeepEqual(lastRecord(seen[1]!.bytes), [0x17, 0x03, 0x03, 0x00, 0x13])
        })
      ))

    it.live("SNI: the server picks the certificate of the name asked for, wildcards included", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const names: Array<string | undefined> = []
          const { port } = yield* tlsServer(d.host, {
            ...serverTls,
            sni: { "api.test": { key: api.key, cert: api.cert }, "*.wild.test": { key: wild.key, cert: wild.cert } }
          }, (s) => Effect.andThen(Effect.sync(() => names.push(s.tls?.servername)), echo(s)))
          const byName = yield* exchange(port, d.host, { ca: ca.cert, servername: "api.test" })
          assert.strictEqual(byName.answer, "ping")
          assert.strictEqual(byName.session?.peerCertificate?.subject, "CN=api.test")
          const wildcard = yield* exchange(port, d.host, { ca: ca.cert, servername: "one.wild.test" })
          assert.strictEqual(wildcard.session?.peerCertificate?.subject, "CN=*.wild.test")
          // another name, or no SNI at all (an IP address): the default certificate
          const fallback = yield* exchange(port, d.host, { ca: ca.cert, servername: "localhost" })
          assert.strictEqual(fallback.session?.peerCertificate?.subject, "CN=localhost")
          const noSni = yield* exchange(port, "127.0.0.1", { ca: ca.cert })
          assert.strictEqual(noSni.session?.peerCertificate?.subject, "CN=localhost")
          assert.isUndefined(noSni.session?.servername)
          assert.deepStrictEqual(names, ["api.test", "one.wild.test", "localhost", undefined])
          // a name served by the default certificate only: refused by the client
          const wrong = yield* Effect.flip(exchange(port, d.host, { ca: ca.cert, servername: "nope.test" }))
          assert.strictEqual(wrong.reason, "HostnameMismatch")
        })
      ))

    it.live("ALPN: both ends settle on a protocol; none in common fails with ProtocolMismatch", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const chosen: Array<string | undefined> = []
          const { server, port } = yield* tlsServer(d.host, { ...serverTls, alpnProtocols: ["h2", "http/1.1"] }, (s) =>
            Effect.andThen(
              Effect.sync(() =>
                chosen.push(s.tls?.alpnProtocol)
              ),
              echo(s)
            ))
          const ok = yield* exchange(port, d.host, { ...clientTls, alpnProtocols: ["spdy/1", "http/1.1"] })
          assert.strictEqual(ok.session?.alpnProtocol, "http/1.1")
          assert.deepStrictEqual(chosen, ["http/1.1"])
          const error = yield* Effect.flip(exchange(port, d.host, { ...clientTls, alpnProtocols: ["imap"] }))
          assert.strictEqual(error._tag, "ConnectError")
          assert.strictEqual(error.reason, "ProtocolMismatch")
          assert.strictEqual(error.code, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL")
          assert.include(error.message, "no ALPN protocol in common")
          yield* eventually(() =>
            server.listener.connections === 0, "the refused connection closed")
          const failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.reason, "ProtocolMismatch")
          // the server kept serving
          assert.strictEqual((yield* exchange(port, d.host, clientTls)).answer, "ping")
        })
      ))

    it.live("protocol versions: a server capped at TLS 1.2 talks 1.2; a client insisting on 1.3 is refused", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { server, port } = yield* tlsServer(d.host, { ...serverTls, maxVersion: "TLSv1.2" })
          const ok = yield* exchange(port, d.host, clientTls)
          assert.strictEqual(ok.session?.protocol, "TLSv1.2")
          assert.match(ok.session?.cipher ?? "", /^TLS_ECDHE_ECDSA_/)
          const error = yield* Effect.flip(exchange(port, d.host, { ...clientTls, minVersion: "TLSv1.3" }))
          assert.strictEqual(error.reason, "ProtocolMismatch")
          yield* eventually(() => server.listener.connections === 0, "the refused connection closed")
          assert.strictEqual((yield* server.handshakeFailures).latest?.reason, "ProtocolMismatch")
        })
      ))

    it.live("mutual TLS: a trusted client certificate is authorized; none, or an untrusted one, is refused", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const clients: Array<Tls.Session | undefined> = []
          const { server, port } = yield* tlsServer(
            d.host,
            { ...serverTls, requestCert: true, ca: ca.cert },
            (s) => Effect.andThen(Effect.sync(() => clients.push(s.tls)), echo(s))
          )
          const ok = yield* exchange(port, d.host, { ...clientTls, key: client.key, cert: client.cert })
          assert.strictEqual(ok.answer, "ping")
          assert.strictEqual(clients.length, 1)
          assert.isTrue(clients[0]?.authorized)
          assert.strictEqual(clients[0]?.peerCertificate?.subject, "CN=client one")
          // TLS 1.3: the client's handshake is done before the server judges its certificate
          const none = yield* Effect.flip(exchange(port, d.host, clientTls))
          assert.strictEqual(none._tag, "SocketError")
          assert.strictEqual(none.reason, "HandshakeFailed")
          assert.include(
            codes("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED"),
            none.code
          )
          yield* eventually(() => server.listener.connections === 0, "the refused connection closed")
          let failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.code, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE")
          // an untrusted certificate: the server closes the connection, no handler runs
          yield* Effect.exit(exchange(port, d.host, { ...clientTls, key: foreignClient.key, cert: foreignClient.cert }))
          yield* eventually(() => server.listener.connections === 0, "the refused connection closed")
          failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 2)
          assert.strictEqual(failures.latest?.reason, "CertificateUntrusted")
          assert.strictEqual(failures.latest?.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
          assert.strictEqual(clients.length, 1)
        })
      ))

    it.live("mutual TLS without rejectUnauthorized: the client is accepted, unauthorized, with the reason", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const clients: Array<Tls.Session | undefined> = []
          const { port } = yield* tlsServer(d.host, {
            ...serverTls,
            requestCert: true,
            rejectUnauthorized: false,
            ca: ca.cert
          }, (s) => Effect.andThen(Effect.sync(() => clients.push(s.tls)), echo(s)))
          const ok = yield* exchange(port, d.host, { ...clientTls, key: foreignClient.key, cert: foreignClient.cert })
          assert.strictEqual(ok.answer, "ping")
          assert.isFalse(clients[0]?.authorized)
          assert.strictEqual(clients[0]?.authorizationError, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
          assert.strictEqual(clients[0]?.peerCertificate?.subject, "CN=intruder")
        })
      ))

    it.live("each certificate problem is its own typed reason, with the OpenSSL code and a readable message", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const cases: ReadonlyArray<
            readonly [string, { key: string; cert: string }, Tls.ClientOptions, string, string, string]
          > = [
            [
              "untrusted CA",
              foreign,
              clientTls,
              "CertificateUntrusted",
              "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
              "not signed by a trusted authority"
            ],
            [
              "self-signed",
              selfSigned,
              clientTls,
              "CertificateUntrusted",
              "DEPTH_ZERO_SELF_SIGNED_CERT",
              "self-signed"
            ],
            ["expired", expired, clientTls, "CertificateExpired", "CERT_HAS_EXPIRED", "has expired"],
            ["not yet valid", notYetValid, clientTls, "CertificateExpired", "CERT_NOT_YET_VALID", "not valid yet"],
            [
              "another name",
              leaf,
              { ca: ca.cert, servername: "other.test" },
              "HostnameMismatch",
              "ERR_TLS_CERT_ALTNAME_INVALID",
              "other.test"
            ]
          ]
          // Bun's TLS says "unable to verify" of a self-signed leaf
          const alternatives: Record<string, ReadonlyArray<string>> = {
            DEPTH_ZERO_SELF_SIGNED_CERT: codes("DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
          }
          for (const [what, credentials, tls, reason, code, words] of cases) {
            const { port } = yield* tlsServer(d.host, { key: credentials.key, cert: credentials.cert })
            const error = yield* Effect.flip(exchange(port, d.host, tls))
            assert.strictEqual(error._tag, "ConnectError", what)
            assert.strictEqual(error.reason, reason, what)
            assert.include(alternatives[code] ?? [code], error.code, what)
            assert.strictEqual(error.syscall, "handshake", what)
            assert.strictEqual(error.port, port, what)
            const said = words === "self-signed" ? codes("self-signed", "not signed by a trusted authority") : [words]
            assert.isTrue(said.some((w) => error.message.includes(w)), `${what}: ${error.message}`)
            assert.isDefined(error.cause, what)
            if (error._tag === "ConnectError") assert.strictEqual(error.attempts?.at(-1)?.outcome, "connected", what)
          }
        })
      ))

    it.live("a client that gives up during the handshake is counted and released at once, not at the deadline", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { server, port } = yield* tlsServer(d.host, { ...serverTls, handshakeTimeout: "1 minute" })
          // the client refuses the server's certificate and closes before its Finished
          const error = yield* Effect.flip(exchange(port, d.host, { ca: ca.cert, servername: "elsewhere.test" }))
          assert.strictEqual(error.reason, "HostnameMismatch")
          yield* eventually(() => server.listener.connections === 0, "the abandoned handshake released", 5_000)
          const failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.reason, "ConnectionReset")
        })
      ))

    it.live("clients with other authorities or certificates get other contexts (a reused one never leaks trust)", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(
            d.host,
            { ...serverTls, requestCert: true, ca: ca.cert },
            (s) => Effect.andThen(s.write(s.tls?.peerCertificate?.subject ?? "none"), Effect.ignore(readText(s)))
          )
          const withClient = { ...clientTls, key: client.key, cert: client.cert }
          for (let i = 0; i < 2; i++) {
            assert.strictEqual((yield* exchange(port, d.host, withClient)).answer, "CN=client one")
            const untrusting = yield* Effect.flip(exchange(port, d.host, { ca: otherCa.cert, servername: "localhost" }))
            assert.strictEqual(untrusting.reason, "CertificateUntrusted")
            // the same authority, the client certificate of another: refused, not served as "client one"
            const other = { ca: ca.cert, servername: "localhost", key: foreignClient.key, cert: foreignClient.cert }
            const refused = yield* Effect.exit(exchange(port, d.host, other))
            if (Exit.isSuccess(refused)) assert.strictEqual(refused.value.answer, "")
          }
        })
      ))

    it.live("rejectUnauthorized: false connects to an untrusted server and says why it is not authorized", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(d.host, { key: selfSigned.key, cert: selfSigned.cert })
          const r = yield* exchange(port, d.host, { rejectUnauthorized: false, servername: "localhost" })
          assert.strictEqual(r.answer, "ping")
          assert.isFalse(r.session?.authorized)
          assert.include(
            codes("DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
            r.session?.authorizationError
          )
        })
      ))

    it.live("a custom server identity check decides, and its reason reaches the error", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(d.host)
          const pinned = (yield* exchange(port, d.host, clientTls)).session!.peerCertificate!.fingerprint256
          const asked: Array<string> = []
          const accepted = yield* exchange(port, d.host, {
            ca: ca.cert,
            servername: "anything.test",
            checkServerIdentity: (name, cert) => {
              asked.push(name)
              return cert.fingerprint256 === pinned ? undefined : "not the pinned certificate"
            }
          })
          assert.strictEqual(accepted.answer, "ping")
          assert.deepStrictEqual(asked, ["anything.test"])
          const refused = yield* Effect.flip(exchange(port, d.host, {
            ...clientTls,
            checkServerIdentity: () => "pinned to another key"
          }))
          assert.strictEqual(refused.reason, "HostnameMismatch")
          assert.include(refused.message, "pinned to another key")
          // a check that throws refuses too
          const thrown = yield* Effect.flip(exchange(port, d.host, {
            ...clientTls,
            checkServerIdentity: () => {
              throw new Error("check crashed")
            }
          }))
          assert.strictEqual(thrown.reason, "HostnameMismatch")
          assert.include(thrown.message, "check crashed")
        })
      ))

    it.live("a plain-text client against a TLS server is counted and closed; the server keeps serving", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          let handled = 0
          const { server, serving, port } = yield* tlsServer(d.host, serverTls, (s) =>
            Effect.andThen(
              Effect.sync(() => handled++),
              echo(s)
            ))
          const answer = yield* Effect.scoped(Effect.gen(function*() {
            const plain = yield* Network.connect({ host: d.host, port })
            yield* plain.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return yield* Effect.exit(Stream.runCollect(plain.reads))
          }))
          // no plaintext ever comes back
          if (Exit.isSuccess(answer)) assert.notInclude(text(answer.value), "HTTP")
          yield* eventually(() => server.listener.connections === 0, "the plain connection closed")
          const failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.reason, "ProtocolMismatch")
          assert.strictEqual(failures.latest?.syscall, "handshake")
          assert.isDefined(failures.latest?.address)
          assert.strictEqual((yield* exchange(port, d.host, clientTls)).answer, "ping")
          assert.strictEqual(handled, 1)
          assert.strictEqual((yield* serving.stats).accepted, 1)
        })
      ))

    it.live("a TLS client against a plain-text server fails with ProtocolMismatch", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          yield* Effect.forkScoped(Stream.runForEach(plain.accept, (s) =>
            Socket.use(s, (s) =>
              Effect.andThen(s.write("220 smtp.test ESMTP ready\r\n"), Effect.ignore(s.pull)))))
          const error = yield* Effect.flip(exchange(tcpPort(plain.address), d.host, clientTls))
          assert.strictEqual(error.reason, "ProtocolMismatch")
          assert.strictEqual(error.code, "ERR_SSL_WRONG_VERSION_NUMBER")
        })
      ))

    it.live("handshake deadlines: a silent server times the client out, a silent client is dropped by the server", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const silent = yield* Network.listen({ host: d.host, port: 0 })
          yield* Effect.forkScoped(
            Stream.runForEach(silent.accept, (s) => Effect.forkScoped(Socket.use(s, () => Effect.never)))
          )
          const port = tcpPort(silent.address)
          const own = yield* Effect.flip(exchange(port, d.host, { ...clientTls, handshakeTimeout: "150 millis" }))
          assert.strictEqual(own.reason, "TimedOut")
          assert.strictEqual(own.code, "ERR_TLS_HANDSHAKE_TIMEOUT")
          assert.include(own.message, "no TLS handshake within 150 ms")
          // the connect deadline covers the handshake
          const start = Date.now()
          const deadline = yield* Effect.flip(
            Effect.scoped(Network.connect({ host: d.host, port, timeout: "200 millis", tls: clientTls }))
          )
          assert.strictEqual(deadline.reason, "TimedOut")
          assert.include(deadline.message, "connect deadline of 200 ms elapsed during the TLS handshake")
          assert.isAtLeast(Date.now() - start, 150)
          // the server's deadline: a client that never speaks TLS
          const { server, port: tlsPort } = yield* tlsServer(d.host, { ...serverTls, handshakeTimeout: "150 millis" })
          const mute = yield* Network.connect({ host: d.host, port: tlsPort })
          const reads = yield* Effect.exit(Stream.runCollect(mute.reads))
          if (Exit.isSuccess(reads)) assert.strictEqual(reads.value.length, 0)
          yield* eventually(() => server.listener.connections === 0, "the mute connection dropped")
          const failures = yield* server.handshakeFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.reason, "TimedOut")
          assert.strictEqual(failures.latest?.code, "ERR_TLS_HANDSHAKE_TIMEOUT")
        })
      ))

    it.live("the idle timeout of an encrypted socket keeps its meaning", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { port } = yield* tlsServer(d.host, serverTls, () => Effect.never)
          const socket = yield* Network.connect({ host: d.host, port, tls: clientTls, idleTimeout: "150 millis" })
          const error = yield* Effect.flip(Stream.runDrain(socket.reads))
          assert.strictEqual(error.reason, "TimedOut")
          assert.strictEqual(error.code, "ETIMEDOUT")
        })
      ))

    it.live("maxConnections counts connections in their handshake: the one beyond is refused", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const { server, port } = yield* tlsServer(d.host, serverTls, echo, { maxConnections: 1 })
          const first = yield* Network.connect({ host: d.host, port, tls: clientTls })
          const error = yield* Effect.flip(exchange(port, d.host, clientTls))
          assert.strictEqual(error.reason, "ConnectionReset")
          assert.strictEqual(yield* server.dropped, 1)
          yield* first.write("still here")
          const pull = yield* Stream.toPull(first.reads)
          assert.strictEqual(text(yield* pull), "still here")
        })
      ))

    it.live("STARTTLS both ways: the bytes the server's socket read ahead belong to TLS", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          const handed = yield* Deferred.make<number>()
          yield* Effect.forkScoped(Stream.runForEach(plain.accept, (s) =>
            Socket.use(s, (s) =>
              Effect.gen(function*() {
                const after = yield* readLine(s, "STARTTLS\r\n")
                assert.strictEqual(after.length, 0)
                yield* s.write("220 go ahead\r\n")
                // the client's hello arrives and waits in the socket, unpulled
                yield* Effect.callback<void>((resume) => {
                  const check = () => Effect.runSync(s.bufferedBytes) > 0 ? resume(Effect.void) : setImmediate(check)
                  check()
                })
                yield* Deferred.succeed(handed, Effect.runSync(s.bufferedBytes))
                const secure = yield* Tls.upgradeServer(s, serverTls)
                assert.strictEqual(secure, s)
                assert.strictEqual(secure.tls?.protocol, "TLSv1.3")
                yield* echo(secure)
              }))))
          const socket = yield* Network.connect({ host: d.host, port: tcpPort(plain.address) })
          yield* socket.write("STARTTLS\r\n")
          const rest = yield* readLine(socket, "220 go ahead\r\n")
          assert.strictEqual(rest.length, 0)
          assert.isUndefined(socket.tls)
          const secure = yield* Tls.upgrade(socket, clientTls)
          assert.strictEqual(secure, socket)
          assert.isTrue(secure.tls?.authorized)
          assert.isAbove(yield* Deferred.await(handed), 100)
          yield* secure.write("over TLS now")
          yield* secure.endOfOutput
          assert.strictEqual(yield* readText(secure), "over TLS now")
        })
      ))

    it.live("STARTTLS: bytes the server's parser read past its command are handed back with `unread`", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          yield* Effect.forkScoped(Stream.runForEach(plain.accept, (s) =>
            Socket.use(s, (s) =>
              Effect.gen(function*() {
                const after = yield* readLine(s, "STARTTLS\r\n")
                const secure = yield* Tls.upgradeServer(s, { ...serverTls, unread: after })
                yield* echo(secure)
              }))))
          const socket = yield* Network.connect({ host: d.host, port: tcpPort(plain.address), noDelay: true })
          // the hello follows the command at once, without waiting for an answer
          yield* socket.write("STARTTLS\r\n")
          const secure = yield* Tls.upgrade(socket, clientTls)
          yield* secure.write("pipelined")
          yield* secure.endOfOutput
          assert.strictEqual(yield* readText(secure), "pipelined")
        })
      ))

    it.live("a failed STARTTLS fails the socket and closes it; an upgrade after the peer ended is refused", () =>
      runTls(
        d.make(),
        Effect.gen(function*() {
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          yield* Effect.forkScoped(Stream.runForEach(plain.accept, (s) =>
            Socket.use(s, (s) =>
              Effect.gen(function*() {
                const after = yield* readLine(s, "STARTTLS\r\n")
                const secure = yield* Tls.upgradeServer(s, { key: foreign.key, cert: foreign.cert, unread: after })
                yield* echo(secure)
              }).pipe(Effect.ignore))))
          const socket = yield* Network.connect({ host: d.host, port: tcpPort(plain.address) })
          yield* socket.write("STARTTLS\r\n")
          const error = yield* Effect.flip(Tls.upgrade(socket, clientTls))
          assert.strictEqual(error._tag, "SocketError")
          assert.strictEqual(error.reason, "CertificateUntrusted")
          assert.strictEqual(error.syscall, "handshake")
          assert.isTrue(socket.connection.closed)
          const write = yield* Effect.flip(socket.write("more"))
          assert.strictEqual(write.reason, "CertificateUntrusted")
          // the peer ended first: nothing to upgrade
          const ending = yield* Network.listen({ host: d.host, port: 0 })
          yield* Effect.forkScoped(Stream.runForEach(ending.accept, (s) => Socket.use(s, () => Effect.void)))
          const ended = yield* Network.connect({ host: d.host, port: tcpPort(ending.address) })
          yield* Stream.runDrain(ended.reads)
          const refused = yield* Effect.flip(Tls.upgrade(ended, clientTls))
          assert.strictEqual(refused.reason, "Closed")
        })
      ))

    it.live("without a TLS provider in context, TLS answers Unsupported", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const plain = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(plain.address)
          const connect = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port, tls: clientTls })))
          assert.strictEqual(connect.reason, "Unsupported")
          assert.include(connect.message, "NodeTls.layer")
          const listen = yield* Effect.flip(Network.listen({ host: d.host, port: 0, tls: serverTls }))
          assert.strictEqual(listen.reason, "Unsupported")
          const socket = yield* Network.connect({ host: d.host, port })
          const upgrade = yield* Effect.flip(Tls.upgrade(socket, clientTls))
          assert.strictEqual(upgrade.reason, "Unsupported")
          // the plain socket is untouched
          assert.isFalse(socket.connection.closed)
        })
      ))
  })
}

describe("TLS options", () => {
  const d = drivers[0]!
  it.live("bad TLS options fail with InvalidOptions naming the field, before anything is dialled", () =>
    runTls(
      d.make(),
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ servername: "" }, "tls.servername: expected a non-empty string, got \"\""],
          [{ ca: 42 }, "tls.ca: expected PEM text or DER bytes"],
          [{ ca: [] }, "tls.ca: expected PEM text or DER bytes"],
          [{ rejectUnauthorized: "no" }, "tls.rejectUnauthorized: expected a boolean, got \"no\""],
          [{ minVersion: "TLSv9" }, "tls.minVersion: expected one of \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\", \"TLSv1.3\""],
          [{ minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }, "tls.minVersion: TLSv1.3 is above maxVersion TLSv1.2"],
          [{ alpnProtocols: ["h2", ""] }, "tls.alpnProtocols: expected a non-empty array of protocol names"],
          [{ checkServerIdentity: true }, "tls.checkServerIdentity: expected a function"],
          [{ handshakeTimeout: -1 }, "tls.handshakeTimeout: expected a duration ≥ 0, got -1"],
          [{ cert: leaf.cert }, "tls.cert: a certificate needs its private key (key)"],
          [{ rejectUnauthorised: false }, "tls.rejectUnauthorised: unknown TLS option"],
          [{ toString: "x" }, "tls.toString: unknown TLS option"],
          [{ handshakeTimeout: Number.NaN }, "tls.handshakeTimeout: expected a duration, got NaN"],
          ["yes", "tls: expected an object of TLS options, got \"yes\""],
          [{ key: "not a key", cert: "not a certificate" }, "tls: "]
        ]
        for (const [tls, detail] of cases) {
          const error = yield* Effect.flip(
            Effect.scoped(Network.connect({ host: d.host, port: 9, tls: tls as Tls.ClientOptions }))
          )
          assert.strictEqual(error.reason, "InvalidOptions", detail)
          assert.strictEqual(error.syscall, "connect", detail)
          assert.include(error.message, detail)
          assert.deepStrictEqual(error.attempts ?? [], [], detail)
        }
        const listens: ReadonlyArray<readonly [unknown, string]> = [
          [{ cert: leaf.cert }, "tls.cert: a certificate needs its private key (key)"],
          [{}, "tls.key: a server needs a private key and its certificate (key, cert)"],
          [{ ...serverTls, requestCert: 1 }, "tls.requestCert: expected a boolean, got 1"],
          [{ ...serverTls, sni: { "": serverTls } }, "tls.sni: expected host names"],
          [
            { ...serverTls, sni: { "a.test": { cert: leaf.cert } } },
            "tls.sni[\"a.test\"].cert: a certificate needs its private key"
          ],
          [{ key: leaf.key, cert: api.cert }, "tls: "],
          [{ key: "garbage", cert: "garbage" }, "tls: "]
        ]
        for (const [tls, detail] of listens) {
          const error = yield* Effect.flip(Network.listen({ host: d.host, port: 0, tls: tls as Tls.ServerOptions }))
          assert.strictEqual(error.reason, "InvalidOptions", detail)
          assert.include(error.message, detail)
        }
      })
    ))
})
