/**
 * The node adapter on the other runtimes that run npm packages: the behaviour
 * suite's real-socket part (connect, listen, echo, half-close, reset, errors,
 * options, deadlines and idle timeouts, serving, on TCP and unix paths) runs on Bun and on Deno,
 * both from their npm packages (devDependencies), through Vitest running on
 * that runtime. There `NodeDriver.driver` is the `net.Socket` driver (Bun has
 * no libuv bindings; Deno's are imitations), so the suite runs on it once.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..", "..", "..")
const bin = (name: string) => path.join(root, "node_modules", ".bin", name)
const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs")

const testDir = path.join(root, "packages", "core", "test")

/**
 * The behaviour suite's files with real-socket cases: those that run on the
 * drivers of `drivers.ts` or on the node driver itself, less those that
 * cannot run elsewhere than on Node, for the reason given.
 */
const notOnOtherRuntimes: Record<string, string> = {
  "NodeHost.test.ts":
    "Node's host specifics: runs Node child processes as nobody; Deno reports EINVAL (InvalidOptions) "
    + "where the host lacks an address, Node and Bun EADDRNOTAVAIL (see the node adapter's README)",
  "ListenPaths.test.ts":
    "pins Node's codes for local socket paths (libuv reports a bind's ENOENT as EACCES, errno numbers negative); "
    + "Bun and Deno report ENOENT, Bun positive errno numbers",
  "OptionsSweep.test.ts":
    "its Schema test compares with the last driver, the memory network, which these runs leave out",
  "Soak.test.ts": "measures the heap with V8's gc(), which Bun does not expose"
}

/**
 * Files one runtime cannot run, for the reason given (the other runs them).
 * TLS runs on Bun (its node:tls takes a socket over as Node's does); Deno's
 * node:tls runs over a socket it made or a plain `net.Socket`, not over the
 * driver's sockets, which read through `onread`, nor over a stream.
 */
const notOn: Record<string, Record<string, string>> = {
  bun: {
    "ResetNoLoss.test.ts": "Bun reports a peer's reset, after a half-close with a write pending, to nobody: "
      + "the write succeeds and the read ends cleanly, so no driver sees it"
  },
  deno: {
    "Tls.test.ts": "Deno's node:tls does not take a socket read through onread (or a stream) over",
    "TlsInterop.test.ts": "as Tls.test.ts"
  }
}

const suite = fs.readdirSync(testDir)
  .filter((f) => f.endsWith(".test.ts") && !(f in notOnOtherRuntimes))
  .filter((f) => {
    const text = fs.readFileSync(path.join(testDir, f), "utf8")
    return text.includes(`from "./drivers.ts"`) || text.includes(`from "@sluice/node-adapter/NodeDriver"`)
  })
  .toSorted()

// Vitest's worker pools as each runtime can run them: Bun's child processes lack
// the IPC channel's unref (forks fail to start), Deno's worker threads lack
// parentPort.removeAllListeners (threads fail at teardown)
const runtimes = [
  { name: "bun", command: bin("bun"), args: ["--bun", vitest], pool: "threads" },
  { name: "deno", command: bin("deno"), args: ["run", "--allow-all", vitest], pool: "forks" }
] as const

const run = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 280_000
    })
    let output = ""
    child.stdout.on("data", (d: Buffer) => (output += d))
    child.stderr.on("data", (d: Buffer) => (output += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

describe("the node adapter on other runtimes", () => {
  for (const runtime of runtimes) {
    it(`the behaviour suite's real-socket part passes on ${runtime.name}`, async () => {
      const files = suite.filter((f) => !(f in (notOn[runtime.name] ?? {})))
      const { code, output } = await run(
        runtime.command,
        [
          ...runtime.args,
          "run",
          "--project",
          "core",
          "--pool",
          runtime.pool,
          ...files.map((f) => path.join(testDir, f))
        ],
        {
          SLUICE_DRIVERS: "node,node (net.Socket)",
          SLUICE_RUNTIME: runtime.name,
          NO_COLOR: "1",
          DENO_NO_UPDATE_CHECK: "1"
        }
      )
      const tail = output.slice(-6000)
      const [, passed, failed] = /tests: (\d+) passed, (\d+) failed/.exec(output) ?? []
      console.log(`${runtime.name}: ${passed} passed, ${failed} failed, in ${files.length} files`)
      assert.strictEqual(code, 0, tail)
      assert.strictEqual(failed, "0", tail)
      // every file ran its real-socket cases (128 on 2026-12-03)
      assert.isAtLeast(Number(passed), 100, tail)
    }, 300_000)
  }
})
