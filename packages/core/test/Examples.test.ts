/**
 * The runnable examples (`examples/*.ts`) run by themselves, exit 0, print
 * nothing on stderr, and print what they must: a newcomer runs them first,
 * and an example that exits 0 having done nothing teaches nothing. Each
 * example has its expected output here, as patterns its lines match in
 * order (lines between them are free: ports, timings and interleavings
 * vary). `examples/echo-server.ts` serves until stopped; `examples/echo.ts`
 * runs it.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../../..")
const examples = fs.readdirSync(path.join(root, "examples"))
  .filter((f) => f.endsWith(".ts") && f !== "echo-server.ts")
  .toSorted()

/** What each example prints: patterns its stdout's lines match, in this order. */
const expected: Record<string, ReadonlyArray<RegExp>> = {
  "cluster-simulation.ts": [
    /^entities live on: \{ e0: '[abc]', e1: '[abc]', e2: '[abc]', e3: '[abc]', e4: '[abc]', e5: '[abc]' \}$/,
    /^e\d was on b, now on [ac] \(count 1: b's state died with it\)$/,
    /^runners holding shards after the restart: (?=.*\ba\b)(?=.*\bb\b)(?=.*\bc\b)/,
    /^b's log \(\d+ events, first and last 8\):$/,
    /^ +0ms listen b:\d+$/,
    /^ +\.\.\.$/,
    /^ +\d+ms c\d+ /
  ],
  "echo.ts": [
    /^\[server\] bound on an ephemeral port \(\d+\)$/,
    /^\[rude client\] connected$/,
    /^\[rude client\] greeted, resetting the connection$/,
    /^\[client\] connected to server!$/,
    /^\[client\] "hello\\r\\n"$/,
    /^\[client\] "world!\\r\\n"$/,
    /^\[client\] disconnected from server$/,
    /^\[main\] done: closing the server scope$/
  ],
  "effect-client-deadline.ts": [
    /^ConnectError \(TimedOut\): connect ETIMEDOUT db\.internal:5432 .*: connect deadline of 200 ms elapsed$/,
    /^recovered with: fallback$/,
    /^attempt 127\.0\.0\.1 \(IPv4\): connected in \d+ ms$/
  ],
  "effect-echo-server.ts": [
    /^echo server on 127\.0\.0\.1:\d+$/,
    /^a client reset its connection: the server keeps serving$/,
    /^echoed: "hello, sluice\\n"$/,
    /^served 2 connection\(s\): 1 succeeded, 1 ended by the peer, 0 failed$/
  ],
  "effect-graceful-shutdown.ts": [
    /^shutting down$/,
    /^quick client got: done: quick$/,
    /^subscriber got: subscribed; bye, the server is shutting down$/,
    /^slow client: ConnectionReset after \d+ ms$/,
    /^succeeded 2, aborted 1$/
  ],
  "framing.ts": [
    /^real loopback sockets$/,
    /^ {2}ok {2}54 requests, 54 answers$/,
    /^ {2}ok {2}the server failed those connections with FrameTooLarge and Truncated$/,
    /^memory network, every write cut into 1-byte pieces$/,
    /^ {2}ok {2}54 requests, 54 answers$/,
    /^ {2}ok {2}the server failed those connections with FrameTooLarge and Truncated$/,
    /^framing: every check passed$/
  ],
  "http-server.ts": [
    /^real loopback sockets$/,
    /^ {2}ok {2}GET \/hello\/sluice$/,
    /^ {2}ok {2}three requests, one kept-alive connection$/,
    /^ {2}ok {2}fetch, a client that knows nothing of Sluice$/,
    /^ {2}ok {2}nobody listening: TransportError$/,
    /^memory network, every write cut into 1-3 byte pieces$/,
    /^ {2}ok {2}GET \/hello\/sluice$/,
    /^ {2}ok {2}nobody listening: TransportError$/,
    /^http: every check passed$/
  ],
  "memory-compat.ts": [
    /^the legacy directory over a memory network that slices every write:$/,
    /^ {2}ok {2}a lookup by host name succeeds$/,
    /^ {2}ok {2}a port nobody listens on: ECONNREFUSED$/,
    /^the same program when the network resets the connection after 10 bytes:$/,
    /^ {2}ok {2}the client sees Node's ECONNRESET \(Error: read ECONNRESET\)$/,
    /^ {2}ok {2}nothing is left open on the network$/
  ],
  "memory-protocol.ts": [
    /^a length-prefixed protocol over sliced writes and 40 ms latency:$/,
    /^ {2}ok {2}200 frames answered, none lost or duplicated$/,
    /^ {2}ok {2}every answer is its frame reversed, byte for byte$/,
    /^ {2}ok {2}took \d+ ms of virtual time \(at least one 80 ms round trip\)$/,
    /^a connect deadline against a host that never answers:$/,
    /^ {2}ok {2}the connect failed with TimedOut \(.*connect deadline of 30000 ms elapsed\)$/,
    /^ {2}ok {2}all of it in \d+ ms of wall time$/,
    /^ {2}ok {2}the memory network's snapshot shows nothing open$/
  ],
  "tls-echo.ts": [
    /^TLS echo server on 127\.0\.0\.1:\d+$/,
    /^TLSv1\.[23] \S+, ALPN echo\/1, server certificate CN=localhost issued by CN=Example CA$/,
    /^echoed: "hello, encrypted sluice\\n"$/,
    /^without the authority: CertificateUntrusted: /
  ]
}

const run = (file: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join("examples", file)], { cwd: root, timeout: 30_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** The first pattern no line matches, in order (`undefined`: every one matched). */
const unmatched = (lines: ReadonlyArray<string>, patterns: ReadonlyArray<RegExp>): RegExp | undefined => {
  let at = 0
  for (const pattern of patterns) {
    while (at < lines.length && !pattern.test(lines[at]!)) at++
    if (at === lines.length) return pattern
    at++
  }
  return undefined
}

describe("examples", () => {
  it("there are examples to run, and each has its expected output", () => {
    assert.isAtLeast(examples.length, 6)
    assert.deepStrictEqual(Object.keys(expected).toSorted(), examples)
  })

  it("the output check fails a silent example and one that stops early", () => {
    const patterns = expected["effect-client-deadline.ts"]!
    assert.isDefined(unmatched([], patterns))
    assert.strictEqual(unmatched(["ConnectError (TimedOut): nope", "recovered with: fallback"], patterns), patterns[0])
  })

  for (const file of examples) {
    it(`${file} exits 0 by itself and prints what it must`, { timeout: 40_000 }, async () => {
      const { code, stdout, stderr } = await run(file)
      const output = `--- stdout\n${stdout}--- stderr\n${stderr}`
      assert.strictEqual(code, 0, output)
      assert.strictEqual(stderr, "", output)
      const missing = unmatched(stdout.split("\n"), expected[file] ?? [/./])
      assert.isUndefined(missing, `no line matches ${String(missing)} (after the lines before it)\n${output}`)
    })
  }
})
