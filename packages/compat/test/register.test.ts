/**
 * `node --import @sluice/compat/register`: the resolve hook in isolation, then child
 * processes running unmodified code (`require("net")`, `import … from "node:net"`,
 * ioredis against a real redis-server, pg against a real PostgreSQL) with and
 * without the hook.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { defaultOptions, install, makeResolve, netSpecifiers, probeSpecifier } from "@sluice/compat/register-hooks"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import type * as nodeModule from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type RunningPostgres, type RunningServer, startPostgres, startRedis } from "./clients/servers.ts"

const fixtures = fileURLToPath(new URL("./clients/register/", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const register = ["--import", "@sluice/compat/register"]
/** The export condition that selects the workspace packages' sources (as `vitest.shared.ts` sets it). */
const sourceCondition = "@sluice/source"

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `node <flags> <fixture>` from the repository root, bounded by a timeout,
 * without the test's own `NODE_OPTIONS`; the workspace's packages resolve to
 * their sources (`--conditions`, see `vitest.shared.ts`).
 */
const runNode = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const { NODE_OPTIONS: _inherited, ...base } = process.env
    const child = spawn(process.execPath, [`--conditions=${sourceCondition}`, ...args], {
      cwd: repoRoot,
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
      killSignal: "SIGKILL"
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })

/** The JSON report a fixture prints as its last line. */
const report = (run: Run): Record<string, unknown> => {
  assert.strictEqual(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`)
  const last = run.stdout.trim().split("\n").at(-1) ?? ""
  return JSON.parse(last) as Record<string, unknown>
}

const fixture = (name: string) => path.join(fixtures, name)

describe("the resolve hook", () => {
  const options = { target: "file:///compat/register-net.ts", passThrough: ["file:///adapter/"] }
  const next = (specifier: string): nodeModule.ResolveFnOutput => ({ url: `next:${specifier}` })
  const context = (parentURL: string | undefined): nodeModule.ResolveHookContext => ({
    conditions: [],
    importAttributes: {},
    parentURL
  })
  const resolve = makeResolve(options)

  it("resolves the probe specifier to the probe module", () => {
    const withProbe = makeResolve({ ...options, probe: "file:///compat/register-probe.ts" })
    assert.deepStrictEqual(withProbe(probeSpecifier, context("file:///compat/register-hooks.ts"), next), {
      url: "file:///compat/register-probe.ts",
      shortCircuit: true
    })
    assert.isTrue(probeSpecifier.startsWith("node:"))
    // without a probe module the specifier is nobody's business
    assert.deepStrictEqual(resolve(probeSpecifier, context(undefined), next), { url: `next:${probeSpecifier}` })
  })

  it("redirects net and node:net, from any importer but the node driver", () => {
    assert.deepStrictEqual([...netSpecifiers], ["net", "node:net"])
    for (const specifier of ["net", "node:net"]) {
      assert.deepStrictEqual(resolve(specifier, context("file:///app/main.js"), next), {
        url: options.target,
        shortCircuit: true
      })
      assert.deepStrictEqual(resolve(specifier, context(undefined), next), { url: options.target, shortCircuit: true })
      assert.deepStrictEqual(resolve(specifier, context("file:///adapter/src/NodeDriver.ts"), next), {
        url: `next:${specifier}`
      })
    }
  })

  it("leaves every other specifier alone", () => {
    for (const specifier of ["node:dns", "tls", "netmask", "./net", "node:net/x", "http"]) {
      assert.deepStrictEqual(resolve(specifier, context("file:///app/main.js"), next), { url: `next:${specifier}` })
    }
  })

  it("targets compat's register-net module and lets the node driver's package through", () => {
    const defaults = defaultOptions()
    assert.match(defaults.target, /^file:.*\/compat\/src\/register-net\.ts$/)
    assert.strictEqual(defaults.passThrough.length, 1)
    assert.isTrue(import.meta.resolve("@sluice/node-adapter/NodeDriver").startsWith(defaults.passThrough[0] ?? "-"))
    assert.isFalse(defaults.target.startsWith(defaults.passThrough[0] ?? "-"))
    assert.match(defaults.probe ?? "", /^file:.*\/compat\/src\/register-probe\.ts$/)
  })

  it("fails with a clear message where module.registerHooks is missing (Node 22.12–22.14)", () => {
    assert.throws(
      () => install({}, { target: "file:///x", passThrough: [] }),
      /needs module\.registerHooks \(Node >= 22\.22\.3 on 22\.x, >= 24\.13\.1 on 24\.x, >= 25\.4\.0 on 25\.x, or Node >= 26\); this is Node v\d+/
    )
  })

  it("fails with a clear message, and deregisters, where the hooks cannot redirect require(\"node:…\")", () => {
    // a registerHooks that registers nothing: the probe require("node:…") fails as on nodejs/node#60005
    let deregistered = 0
    const api = { registerHooks: () => ({ deregister: () => void deregistered++ }) }
    const options = { target: "file:///x", passThrough: [], probe: defaultOptions().probe }
    assert.throws(() => install(api, options), /cannot redirect a require of node:net \(nodejs\/node#60005\)/)
    assert.strictEqual(deregistered, 1)
    // nothing was recorded as installed: a retry probes again
    assert.throws(() => install(api, options), /nodejs\/node#60005/)
    assert.strictEqual(deregistered, 2)
  })

  it("registers once per registerHooks function", () => {
    const calls: Array<nodeModule.RegisterHooksOptions> = []
    const api = {
      registerHooks: (hooks: nodeModule.RegisterHooksOptions) => {
        calls.push(hooks)
        return { deregister: () => {} }
      }
    }
    assert.isDefined(install(api, options))
    assert.isUndefined(install(api, options))
    assert.strictEqual(calls.length, 1)
    assert.isFunction(calls[0]?.resolve)
  })
})

describe("node --import @sluice/compat/register", () => {
  let redis: RunningServer
  let postgres: RunningPostgres
  let dir: string

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-register-"))
    ;[redis, postgres] = await Promise.all([startRedis(), startPostgres()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([redis?.stop(), postgres?.stop()])
    fs.rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it("require(\"net\") and require(\"node:net\") get compat, which works end to end", async () => {
    const hooked = report(await runNode([...register, fixture("net-require.cjs")]))
    assert.deepStrictEqual(hooked, {
      sameModule: true,
      isBuiltin: false,
      isCompat: true,
      echo: "ping over require(\"net\")",
      socketIsCompat: true
    })
  })

  it("without the hook the same program gets the built-in (the check can fail)", async () => {
    const plain = report(await runNode([fixture("net-require.cjs")]))
    assert.deepStrictEqual(plain, {
      sameModule: true,
      isBuiltin: true,
      isCompat: false,
      echo: "ping over require(\"net\")",
      socketIsCompat: false
    })
  })

  it("import from \"net\" / \"node:net\" (default, named, namespace, dynamic) gets compat; unix socket echo", async () => {
    const hooked = report(
      await runNode([...register, fixture("net-import.mjs")], { SLUICE_TEST_DIR: dir })
    )
    assert.deepStrictEqual(hooked, {
      isCompat: true,
      namedAreCompat: true,
      namespaceDefault: true,
      dynamicDefault: true,
      isBuiltin: false,
      echo: "ping over import \"node:net\""
    })
  })

  it("works from NODE_OPTIONS, also alongside --import", async () => {
    const run = await runNode([...register, fixture("net-require.cjs")], {
      NODE_OPTIONS: "--import @sluice/compat/register"
    })
    assert.include(report(run), { isCompat: true, echo: "ping over require(\"net\")" })
  })

  it("ioredis, unmodified, runs commands and pub/sub on compat sockets", async () => {
    const hooked = report(
      await runNode([...register, fixture("ioredis.cjs")], { REDIS_PORT: String(redis.port) })
    )
    assert.deepStrictEqual(hooked, {
      streamIsCompat: true,
      netIsBuiltin: false,
      get: "yes",
      incr: 7,
      messages: ["hook:a", "hook:b", "hook:c"]
    })
  })

  it("pg, unmodified, runs a transaction on a compat socket", async () => {
    const hooked = report(await runNode([...register, fixture("pg.cjs")], { PG_PORT: String(postgres.port) }))
    assert.deepStrictEqual(hooked, { streamIsCompat: true, sum: 500_500, bytesRead: true })
  })
})
