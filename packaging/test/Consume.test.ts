/**
 * The packages as a user gets them: packed (`npm pack`, whose `prepack` builds
 * `dist/`), installed offline into a consumer project outside the workspace
 * (`scripts/consumer.ts`), and used there, on Node 24 and on the oldest Nodes the
 * packages' `engines` admit (nested devDependencies in `tools/`): the root
 * README's echo server and client, `require()` from CommonJS, a strict
 * `nodenext` TypeScript consumer, `--import @sluice/compat/register`, and a
 * browser bundle of `@sluice/core`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { Packed, Result } from "../../scripts/consumer.ts"
import { consumerEnv, makeConsumer, packageDir, publicModules, root, run, show } from "../../scripts/consumer.ts"

const fixtures = path.join(root, "packaging", "fixtures")
const bin = (name: string) => path.join(root, "node_modules", ".bin", name)
const nested = (dir: string) => path.join(root, "tools", dir, "node_modules", "node", "bin", "node")

/** The Nodes the consumer runs on: the workspace's (24) and the oldest each package's `engines` admits. */
const nodes = [
  { name: "Node 24", path: process.execPath, version: /^v24\./, register: true },
  // @sluice/compat: ^22.22.3 || ^24.13.1 || >=25.4.0 (the register hook's minimum versions)
  { name: "Node 22.22.3", path: nested("node-22.22"), version: /^v22\.22\.3$/, register: true },
  // @sluice/core, @sluice/node-adapter: >=22.12.0 (require(esm) without a flag); compat runs there too, its
  // register hook refuses (no module.registerHooks)
  { name: "Node 22.12.0", path: nested("node-22.12"), version: /^v22\.12\.0$/, register: false }
] as const

let dir = ""
let consumer = ""
let packs: ReadonlyArray<Packed> = []
let browserBuild: Result = { code: null, stdout: "", stderr: "not built" }
let shakenBuild: Result = browserBuild

/** Bundles `entry` for the browser into `out` (and its metafile into `out.json`). */
const bundle = (entry: string, out: string) =>
  run(bin("esbuild"), [
    entry,
    "--bundle",
    "--platform=browser",
    "--format=esm",
    `--outfile=${out}`,
    `--metafile=${out}.json`,
    "--log-level=warning"
  ], { cwd: consumer })

const node = (nodePath: string, args: ReadonlyArray<string>) => run(nodePath, args, { cwd: consumer })

/** The fenced code blocks of a Markdown file, in order, with their language. */
const codeBlocks = (file: string): Array<{ lang: string; code: string }> =>
  [...fs.readFileSync(file, "utf8").matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? "",
    code: m[2] ?? ""
  }))

/** A loopback port nobody listens on now (the README's examples name a fixed one: 7000). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Runs a program that does not end by itself until its output satisfies `done`, then stops it. */
const runUntil = (nodePath: string, file: string, done: (stdout: string) => boolean) =>
  new Promise<Result>((resolve, reject) => {
    const child = spawn(nodePath, [file], { cwd: consumer, env: consumerEnv(), timeout: 30_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => {
      stdout += d
      if (done(stdout)) child.kill()
    })
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const parse = <A>(r: Result): A => {
  assert.strictEqual(r.code, 0, show(r))
  return JSON.parse(r.stdout) as A
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-consumer-"))
  ;({ app: consumer, packs } = await makeConsumer(dir))
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(consumer, f))
  browserBuild = await bundle("browser.mjs", "browser.bundle.mjs")
  shakenBuild = await bundle("shaken.mjs", "shaken.bundle.mjs")
}, 240_000)

afterAll(() => {
  if (dir !== "") fs.rmSync(dir, { recursive: true, force: true })
})

describe("the workspace's runtime", () => {
  it("`node` inside npm scripts is Node 24, not one of the nested older Nodes", () => {
    assert.match(process.version, /^v24\./)
    assert.strictEqual(execFileSync(bin("node"), ["-v"], { encoding: "utf8" }).trim(), process.version)
    for (const n of nodes) assert.match(execFileSync(n.path, ["-v"], { encoding: "utf8" }).trim(), n.version)
  })
})

describe("the tarballs", () => {
  it("hold every public module built (js, map, d.ts, d.ts.map), its source, README and LICENSE, nothing else", () => {
    assert.deepStrictEqual(packs.map((p) => p.name), ["@sluice/core", "@sluice/node-adapter", "@sluice/compat"])
    for (const p of packs) {
      const files = p.files.map((f) => f.path).toSorted()
      const sources = fs.readdirSync(path.join(root, packageDir(p.name), "src"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => f.split(path.sep).join("/"))
      const expected = [
        "LICENSE",
        "README.md",
        "package.json",
        ...sources.map((f) => `src/${f}`),
        ...sources.flatMap((f) => {
          const base = `dist/${f.replace(/\.ts$/, "")}`
          return [`${base}.js`, `${base}.js.map`, `${base}.d.ts`, `${base}.d.ts.map`]
        })
      ].toSorted()
      assert.deepStrictEqual(files, expected, p.name)
    }
  })

  it("resolve to built JavaScript; internal modules are not importable, package.json is", async () => {
    const r = await node(process.execPath, [
      "--input-type=module",
      "-e",
      `const out = {}
       for (const s of ["@sluice/core", "@sluice/core/Network", "@sluice/node-adapter", "@sluice/compat"])
         out[s] = import.meta.resolve(s).replace(/.*node_modules\\//, "")
       for (const s of ["@sluice/core/internal/memory", "@sluice/node-adapter/internal/raw", "@sluice/compat/internal/validate"])
         await import(s).then(() => (out[s] = "imported"), (e) => (out[s] = e.code))
       out.packageJson = (await import("@sluice/core/package.json", { with: { type: "json" } })).default.name
       console.log(JSON.stringify(out))`
    ])
    assert.deepStrictEqual(parse(r), {
      "@sluice/core": "@sluice/core/dist/index.js",
      "@sluice/core/Network": "@sluice/core/dist/Network.js",
      "@sluice/node-adapter": "@sluice/node-adapter/dist/index.js",
      "@sluice/compat": "@sluice/compat/dist/index.js",
      "@sluice/core/internal/memory": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@sluice/node-adapter/internal/raw": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@sluice/compat/internal/validate": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      packageJson: "@sluice/core"
    })
  })
})

describe("what compat loads", () => {
  it("require(\"@sluice/compat\") loads no effect module and, of core and the node adapter, only what it uses", async () => {
    const r = await node(process.execPath, [
      "-e",
      `const loaded = []
       require("node:module").registerHooks({ load: (url, context, next) => (loaded.push(url), next(url, context)) })
       require("@sluice/compat")
       console.log(JSON.stringify(loaded.filter((u) => u.startsWith("file:")).map((u) => u.replace(/.*node_modules\\//, "")).sort()))`
    ])
    const loaded = parse<Array<string>>(r)
    assert.deepStrictEqual(loaded.filter((u) => !u.startsWith("@sluice/compat/")), [
      "@sluice/core/dist/Address.js",
      "@sluice/core/dist/Driver.js",
      "@sluice/core/dist/Engine.js",
      "@sluice/core/dist/Errno.js",
      "@sluice/node-adapter/dist/NodeDriver.js",
      "@sluice/node-adapter/dist/internal/raw.js"
    ])
    assert.notInclude(loaded, "@sluice/compat/dist/register.js")
  })
})

describe("TypeScript consumer (strict, module and moduleResolution nodenext, @types/node)", () => {
  it("typechecks imports of every public module and compat as typeof import(\"node:net\")", async () => {
    const modules = packs.flatMap(publicModules)
    assert.isAtLeast(modules.length, 20)
    const imports = modules.map((m, i) => `import * as m${i} from "${m}"`).join("\n")
    const uses = `export const modules = [${modules.map((_, i) => `m${i}`).join(", ")}]`
    fs.writeFileSync(path.join(consumer, "modules.ts"), `${imports}\n${uses}\n`)
    fs.writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2023",
          types: ["node"],
          noEmit: true,
          skipLibCheck: false
        },
        files: ["modules.ts", "assignable.ts"]
      })
    )
    const r = await run(bin("tsc"), ["-p", "tsconfig.json"], { cwd: consumer, timeout: 120_000 })
    assert.strictEqual(r.code, 0, show(r))
  }, 150_000)
})

describe("browser bundle of @sluice/core (esbuild --platform=browser)", () => {
  it("builds without Node built-ins", () => {
    assert.strictEqual(browserBuild.code, 0, show(browserBuild))
    const meta = JSON.parse(fs.readFileSync(path.join(consumer, "browser.bundle.mjs.json"), "utf8")) as {
      inputs: Record<string, { imports: ReadonlyArray<{ path: string; external?: boolean }> }>
    }
    const external = Object.values(meta.inputs).flatMap((i) => i.imports.filter((x) => x.external === true))
    assert.deepStrictEqual(external, [])
    assert.include(Object.keys(meta.inputs), "node_modules/@sluice/core/dist/MemoryNetwork.js")
  })

  it("keeps only the module a program imports from the barrel (sideEffects: false)", () => {
    assert.strictEqual(shakenBuild.code, 0, show(shakenBuild))
    const meta = JSON.parse(fs.readFileSync(path.join(consumer, "shaken.bundle.mjs.json"), "utf8")) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>
    }
    const kept = Object.values(meta.outputs).flatMap((o) =>
      Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([f]) => f)
    )
    assert.deepStrictEqual(kept.filter((f) => f.includes("@sluice/")), ["node_modules/@sluice/core/dist/Address.js"])
    assert.isBelow(fs.statSync(path.join(consumer, "shaken.bundle.mjs")).size, 20_000)
  })
})

for (const n of nodes) {
  describe(`on ${n.name}`, () => {
    it("ESM: the root README's Effect echo server and compat client, verbatim, print the transcript", async () => {
      const [server, client] = [
        codeBlocks(path.join(root, "README.md")).find((b) => b.lang === "ts"),
        codeBlocks(path.join(root, "README.md")).find((b) => b.lang === "js")
      ]
      assert.isDefined(server)
      assert.isDefined(client)
      // one program, both blocks as they are; only their fixed port becomes one that is free now
      const port = String(await freePort())
      const program = `${server?.code}\n${client?.code}`
      assert.include(program, "7000")
      fs.writeFileSync(path.join(consumer, "readme.mjs"), program.replaceAll("7000", port))
      const r = await runUntil(n.path, "readme.mjs", (out) => out.includes("\n"))
      console.log(`README transcript on ${n.name}: ${JSON.stringify(r.stdout)}`)
      assert.strictEqual(r.stderr, "", show(r))
      assert.strictEqual(r.stdout, "hello\r\n\n", show(r))
    })

    it("CJS: require(\"@sluice/compat\") from a .cjs file is a working net", async () => {
      const out = parse<{ checks: Record<string, boolean>; echoed: string }>(await node(n.path, ["cjs.cjs"]))
      assert.deepStrictEqual(out, {
        checks: { createServer: true, notTheBuiltin: true, isIP: true, core: true, nodeAdapter: true, duplex: true },
        echoed: "hello from a .cjs file"
      })
    })

    if (n.register) {
      it("--import @sluice/compat/register: require(\"net\") and import(\"node:net\") in the app are compat", async () => {
        const out = parse<unknown>(await node(n.path, ["--import", "@sluice/compat/register", "register.cjs"]))
        assert.deepStrictEqual(out, {
          same: { requireNet: true, requireNodeNet: true, importNodeNet: true },
          echoed: "hello through the hook"
        })
      })
    } else {
      it("--import @sluice/compat/register refuses with a readable error (no module.registerHooks)", async () => {
        const r = await node(n.path, ["--import", "@sluice/compat/register", "register.cjs"])
        assert.notStrictEqual(r.code, 0)
        assert.include(r.stderr, "@sluice/compat/register needs module.registerHooks")
      })
    }

    it("the browser bundle's memory-network echo runs", async () => {
      assert.strictEqual(browserBuild.code, 0, show(browserBuild))
      assert.deepStrictEqual(parse(await node(n.path, ["browser.bundle.mjs"])), {
        echoed: "hello over the memory network"
      })
    })
  })
}
