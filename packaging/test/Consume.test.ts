/**
 * The packages as a user gets them: packed (`npm pack`, whose `prepack` builds
 * `dist/`), installed offline into a consumer project outside the workspace
 * (`scripts/consumer.ts`), and used there, on Node 24 and on the oldest Nodes the
 * packages' `engines` admit (nested devDependencies in `tools/`): the root
 * README's echo server and client, `require()` from CommonJS, a strict
 * `nodenext` TypeScript consumer of every public module, `--import
 * @sluice/compat/register`, a browser bundle of `@sluice/core`, an effect/http
 * app through `@sluice/http` and a two-host `@sluice/sim` simulation. The
 * manifests are checked as published: files, exports, side effects, engines
 * against what the dependencies need, peer dependencies against what the
 * built code imports, LICENSE, README links that work on the registry's page.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { Packed, Result } from "../../scripts/consumer.ts"
import {
  admits,
  consumerEnv,
  makeConsumer,
  packageDir,
  publicModules,
  root,
  run,
  show
} from "../../scripts/consumer.ts"

const fixtures = path.join(root, "packaging", "fixtures")
const bin = (name: string) => path.join(root, "node_modules", ".bin", name)
const nested = (dir: string) => path.join(root, "tools", dir, "node_modules", "node", "bin", "node")

/** The Nodes the consumer runs on: the workspace's (24) and the oldest each package's `engines` admits. */
const nodes = [
  { name: "Node 24", path: process.execPath, version: process.version, register: true },
  // @sluice/compat and @sluice/http: ^22.22.3 || ^24.13.1 || >=25.4.0 (the register hook's minimum versions)
  { name: "Node 22.22.3", path: nested("node-22.22"), version: "v22.22.3", register: true },
  // @sluice/core, @sluice/node-adapter, @sluice/sim: >=22.12.0 (require(esm) without a flag); compat runs there too,
  // its register hook refuses (no module.registerHooks)
  { name: "Node 22.12.0", path: nested("node-22.12"), version: "v22.12.0", register: false }
] as const

/** Node versions around every bound the packages' and their dependencies' `engines` name. */
const probeVersions = [
  "20.19.0",
  "22.11.0",
  "22.12.0",
  "22.18.0",
  "22.19.0",
  "22.22.2",
  "22.22.3",
  "23.11.0",
  "24.0.0",
  "24.13.0",
  "24.13.1",
  "25.0.0",
  "25.3.0",
  "25.4.0",
  "26.0.0"
]

/** The packages, as published: their names, in dependency order. */
const published = ["@sluice/core", "@sluice/node-adapter", "@sluice/compat", "@sluice/http", "@sluice/sim"]

interface Manifest {
  readonly name: string
  readonly version: string
  readonly license?: string
  readonly files?: ReadonlyArray<string>
  readonly exports?: unknown
  readonly sideEffects?: unknown
  readonly engines?: { readonly node?: string }
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
  readonly repository?: { readonly type: string; readonly url: string; readonly directory: string }
  readonly homepage?: string
  readonly bugs?: { readonly url: string }
}

/** A package's manifest as installed in the consumer (what `npm pack` shipped). */
const installed = (name: string): Manifest =>
  JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", name, "package.json"), "utf8")) as Manifest

/** The groups a package's `prepack` folds with `scripts/bundle.ts` (none: `tsc`'s one file per module). */
const bundleGroups = (name: string): Array<Array<string>> => {
  const prepack = (JSON.parse(fs.readFileSync(path.join(root, packageDir(name), "package.json"), "utf8")) as {
    scripts?: { prepack?: string }
  }).scripts?.prepack ?? ""
  const args = /scripts\/bundle\.ts((?: [\w,-]+)+)/.exec(prepack)?.[1] ?? ""
  return args.trim().split(" ").filter((g) => g !== "").map((g) => g.split(","))
}

/** A package's `engines.node`, from the workspace (the tests are defined before the consumer is made). */
const enginesOf = (name: string): string =>
  (JSON.parse(fs.readFileSync(path.join(root, packageDir(name), "package.json"), "utf8")) as Manifest).engines
    ?.node ?? ""

/** The packages a built module imports (bare specifiers, comments left out), and whether it imports a built-in. */
const importsOf = (file: string): { packages: Set<string>; node: boolean } => {
  const code = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
  const specifiers = [...code.matchAll(/(?:from\s+|import\(\s*|require\(\s*)"([^"]+)"/g)].map((m) => m[1]!)
  const packages = new Set<string>()
  let node = /\/\/\/\s*<reference types="node"/.test(code)
  for (const s of specifiers) {
    if (s.startsWith(".")) continue
    if (s.startsWith("node:") || builtinModules.includes(s)) node = true
    else packages.add(s.split("/").slice(0, s.startsWith("@") ? 2 : 1).join("/"))
  }
  return { packages, node }
}

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
    for (const n of nodes) assert.strictEqual(execFileSync(n.path, ["-v"], { encoding: "utf8" }).trim(), n.version)
  })
})

describe("the tarballs", () => {
  it("hold every module built (js, map, d.ts, d.ts.map) as bundled, its source, README and LICENSE, nothing else", () => {
    assert.deepStrictEqual(packs.map((p) => p.name), published)
    for (const p of packs) {
      const files = p.files.map((f) => f.path).toSorted()
      const sources = fs.readdirSync(path.join(root, packageDir(p.name), "src"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => f.split(path.sep).join("/").replace(/\.ts$/, ""))
      // scripts/bundle.ts: a group of several modules is one internal/bundle.js and a stub (no map) per module;
      // the internal modules a group imports are inlined (declarations only)
      const groups = bundleGroups(p.name)
      const stubs = groups.filter((g) => g.length > 1).flat()
      const js = (m: string) =>
        groups.length > 0 && m.startsWith("internal/") ? [] : stubs.includes(m) ? [`dist/${m}.js`] : [
          `dist/${m}.js`,
          `dist/${m}.js.map`
        ]
      const expected = [
        "LICENSE",
        "README.md",
        "package.json",
        ...sources.map((f) => `src/${f}.ts`),
        ...sources.flatMap((m) => [...js(m), `dist/${m}.d.ts`, `dist/${m}.d.ts.map`]),
        ...(stubs.length > 0 ? ["dist/internal/bundle.js", "dist/internal/bundle.js.map"] : [])
      ].toSorted()
      assert.deepStrictEqual(files, expected, p.name)
    }
  })

  it("bundled modules keep their exports and share one copy of each class with the package's other entries", async () => {
    // every public module's run-time exports, as the sources have them and as the consumer imports them
    const modules = packs.flatMap(publicModules).filter((m) => !m.endsWith("/register"))
    const fromSources: Record<string, Array<string>> = {}
    for (const m of modules) fromSources[m] = Object.keys(await import(m)).toSorted()
    const r = await node(process.execPath, [
      "--input-type=module",
      "-e",
      `const modules = ${JSON.stringify(modules)}
       const out = {}
       for (const m of modules) out[m] = Object.keys(await import(m)).sort()
       console.log(JSON.stringify(out))`
    ])
    assert.deepStrictEqual(parse(r), fromSources)
    const shared = await node(process.execPath, [
      "-e",
      `const net = require("@sluice/compat")
       const { Socket } = require("@sluice/compat/Socket")
       const { Server } = require("@sluice/compat/Server")
       const errors = require("@sluice/compat/errors")
       console.log(JSON.stringify({
         socket: new net.Socket() instanceof Socket,
         server: net.createServer() instanceof Server,
         blockList: net.BlockList === require("@sluice/compat/BlockList").BlockList,
         socketAddress: net.SocketAddress === require("@sluice/compat/SocketAddress").SocketAddress,
         createNet: net.createNet === require("@sluice/compat/net").createNet,
         registerNet: require("@sluice/compat/register-net") === net.default, // its "module.exports"
         abortError: new errors.AbortError() instanceof Error,
         names: [net.Socket, net.Server, net.BlockList, net.SocketAddress, net.BoundSocket, Socket, Server].map((c) => c.name),
         driver: require("@sluice/node-adapter/NodeDriver").driver === require("@sluice/node-adapter").NodeDriver.driver
       }))`
    ])
    assert.deepStrictEqual(parse(shared), {
      socket: true,
      server: true,
      blockList: true,
      socketAddress: true,
      createNet: true,
      registerNet: true,
      abortError: true,
      names: ["Socket", "Server", "BlockList", "SocketAddress", "BoundSocket", "Socket", "Server"],
      driver: true
    })
  })

  it("resolve to built JavaScript; internal modules are not importable, package.json is", async () => {
    const r = await node(process.execPath, [
      "--input-type=module",
      "-e",
      `const out = {}
       for (const s of ["@sluice/core", "@sluice/core/Network", "@sluice/node-adapter", "@sluice/compat", "@sluice/http", "@sluice/sim", "@sluice/sim/Cluster"])
         out[s] = import.meta.resolve(s).replace(/.*node_modules\\//, "")
       for (const s of ["@sluice/core/internal/memory", "@sluice/node-adapter/internal/raw", "@sluice/compat/internal/validate", "@sluice/sim/internal/trace"])
         await import(s).then(() => (out[s] = "imported"), (e) => (out[s] = e.code))
       out.packageJson = (await import("@sluice/core/package.json", { with: { type: "json" } })).default.name
       console.log(JSON.stringify(out))`
    ])
    assert.deepStrictEqual(parse(r), {
      "@sluice/core": "@sluice/core/dist/index.js",
      "@sluice/core/Network": "@sluice/core/dist/Network.js",
      "@sluice/node-adapter": "@sluice/node-adapter/dist/index.js",
      "@sluice/compat": "@sluice/compat/dist/index.js",
      "@sluice/http": "@sluice/http/dist/index.js",
      "@sluice/sim": "@sluice/sim/dist/index.js",
      "@sluice/sim/Cluster": "@sluice/sim/dist/Cluster.js",
      "@sluice/core/internal/memory": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@sluice/node-adapter/internal/raw": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@sluice/compat/internal/validate": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@sluice/sim/internal/trace": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      packageJson: "@sluice/core"
    })
  })
})

describe("the manifests, as published", () => {
  const sourceAndBuilt = [
    "src/**/*.ts",
    "dist/**/*.js",
    "dist/**/*.js.map",
    "dist/**/*.d.ts",
    "dist/**/*.d.ts.map",
    "README.md",
    "LICENSE"
  ]
  const exportsMap = {
    "./package.json": "./package.json",
    ".": { "@sluice/source": "./src/index.ts", types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./internal/*": null,
    "./*": { "@sluice/source": "./src/*.ts", types: "./dist/*.d.ts", default: "./dist/*.js" }
  }

  it("ship the same files and exports, MIT with its LICENSE, and point at the repository's directory", () => {
    for (const name of published) {
      const m = installed(name)
      const dir = packageDir(name)
      assert.deepStrictEqual(m.files, sourceAndBuilt, name)
      assert.deepStrictEqual(m.exports, exportsMap, name)
      assert.strictEqual(m.license, "MIT", name)
      assert.isTrue(fs.existsSync(path.join(consumer, "node_modules", name, "LICENSE")), `${name} LICENSE`)
      assert.deepStrictEqual(m.repository, {
        type: "git",
        url: "git+https://github.com/sluice-net/sluice.git",
        directory: dir
      })
      assert.strictEqual(m.homepage, `https://github.com/sluice-net/sluice/tree/main/${dir}#readme`, name)
      assert.deepStrictEqual(m.bugs, { url: "https://github.com/sluice-net/sluice/issues" }, name)
    }
  })

  it("declare side effects only for compat's register entry", () => {
    for (const name of published) {
      const expected = name === "@sluice/compat" ? ["./src/register.ts", "./dist/register.js"] : false
      assert.deepStrictEqual(installed(name).sideEffects, expected, name)
    }
  })

  it("admit a Node only where every dependency does, and the oldest admitted is one this test runs on", () => {
    for (const name of published) {
      const m = installed(name)
      const range = m.engines?.node
      assert.isDefined(range, `${name} has no engines.node`)
      if (range === undefined) continue
      const needs = [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]
        .filter((dep) => fs.existsSync(path.join(consumer, "node_modules", dep, "package.json")))
        .map((dep) => [dep, installed(dep).engines?.node] as const)
        .filter((d): d is readonly [string, string] => d[1] !== undefined)
      for (const v of probeVersions) {
        if (!admits(range, v)) continue
        for (const [dep, depRange] of needs) {
          assert.isTrue(
            admits(depRange, v),
            `${name} (${range}) admits Node ${v}, its dependency ${dep} (${depRange}) not`
          )
        }
      }
      const oldest = probeVersions.find((v) => admits(range, v))
      assert.include(nodes.map((n) => n.version), `v${oldest}`, `${name}'s oldest Node (${range})`)
    }
  })

  it("depend on what their built code imports: siblings as ^ ranges, effect and the rest as peers", () => {
    for (const name of published) {
      const m = installed(name)
      const dir = path.join(consumer, "node_modules", name, "dist")
      const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))
      const used = new Set<string>()
      let nodeTypes = false
      for (const f of files) {
        const { packages, node } = importsOf(path.join(dir, f))
        for (const p of packages) used.add(p)
        if (node && f.endsWith(".d.ts")) nodeTypes = true
      }
      const declared = { ...m.dependencies, ...m.peerDependencies }
      for (const p of used) {
        if (p === name) continue
        assert.property(declared, p, `${name} imports ${p} without declaring it`)
      }
      for (const [dep, spec] of Object.entries(m.dependencies ?? {})) {
        assert.isTrue(dep.startsWith("@sluice/"), `${name}: ${dep} should be a peer dependency`)
        assert.strictEqual(spec, "^0.1.0", `${name}: ${dep}`)
      }
      assert.strictEqual(m.peerDependencies?.["effect"], "^4.1.0", name)
      // typings that refer to node:* need @types/node: an optional peer
      if (nodeTypes) {
        assert.strictEqual(m.peerDependencies?.["@types/node"], ">=22", `${name}'s typings refer to node:*`)
        assert.deepStrictEqual(m.peerDependenciesMeta?.["@types/node"], { optional: true }, name)
      } else {
        assert.notProperty(m.peerDependencies ?? {}, "@types/node", name)
      }
    }
  })

  it("README links are absolute (they show on the registry's page, outside the repository)", () => {
    for (const name of published) {
      const readme = fs.readFileSync(path.join(consumer, "node_modules", name, "README.md"), "utf8")
      const targets = [
        ...[...readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]!),
        ...[...readme.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!)
      ]
      const relative = targets.filter((t) => !/^(https?:\/\/|#|mailto:)/.test(t))
      assert.deepStrictEqual(relative, [], `${name}'s README`)
    }
  })
})

describe("what compat loads", () => {
  it("require(\"@sluice/compat\") loads no effect module, of core only the engine, and the node driver at first use", async () => {
    const r = await node(process.execPath, [
      "-e",
      `const loaded = []
       require("node:module").registerHooks({ load: (url, context, next) => (loaded.push(url), next(url, context)) })
       const files = () => loaded.filter((u) => u.startsWith("file:")).map((u) => u.replace(/.*node_modules\\//, "")).sort()
       const net = require("@sluice/compat")
       const atImport = files()
       const server = net.createServer().listen(0, "127.0.0.1", () => {
         server.close()
         console.log(JSON.stringify({ atImport, atListen: files().filter((f) => !atImport.includes(f)) }))
       })`
    ])
    assert.deepStrictEqual(parse(r), {
      // 6 files: compat's entry and its bundle (scripts/bundle.ts); of core the engine and what it needs (text:
      // the encoding of text writes for a driver without string writes)
      atImport: [
        "@sluice/compat/dist/index.js",
        "@sluice/compat/dist/internal/bundle.js",
        "@sluice/core/dist/Address.js",
        "@sluice/core/dist/Engine.js",
        "@sluice/core/dist/Errno.js",
        "@sluice/core/dist/internal/text.js"
      ],
      // the node driver, when a server first needs it (quiet: its own net.Server kept out of diagnostics_channel)
      atListen: [
        "@sluice/core/dist/Driver.js",
        "@sluice/node-adapter/dist/NodeDriver.js",
        "@sluice/node-adapter/dist/internal/quiet.js",
        "@sluice/node-adapter/dist/internal/raw.js"
      ]
    })
  })

  it("after require(\"node:net\"), require(\"@sluice/compat\") loads no built-in module but import.meta's; a connect takes node:dns", async () => {
    const r = await node(process.execPath, [
      "-e",
      `require("node:net")
       const before = new Set(process.moduleLoadList)
       const net = require("@sluice/compat")
       const atImport = process.moduleLoadList.filter((m) => !before.has(m))
       const server = net.createServer((socket) => socket.end()).listen(0, "127.0.0.1", () => {
         net.connect(server.address().port, "localhost").on("close", () => {
           server.close()
           const dns = process.moduleLoadList.filter((m) => !before.has(m)).includes("NativeModule dns")
           console.log(JSON.stringify({ atImport, dns }))
         }).resume()
       })`
    ])
    // as node:net, which takes node:dns at its first lookup; import.meta (the lazy driver's require) is Node's own
    assert.deepStrictEqual(parse(r), {
      atImport: ["NativeModule internal/modules/esm/initialize_import_meta"],
      dns: true
    })
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

    if (admits(enginesOf("@sluice/http"), n.version)) {
      it("@sluice/http: an effect/http app served and requested on the memory network", async () => {
        assert.deepStrictEqual(parse(await node(n.path, ["http.mjs"])), {
          answers: [{ status: 200, body: "hello consumer" }, { status: 200, body: "hello again" }],
          connections: 1
        })
      })
    }

    if (admits(enginesOf("@sluice/sim"), n.version)) {
      it("@sluice/sim: a two-host simulation (echo over a slow link, then a crash) in virtual time", async () => {
        const out = parse<{ echoed: string; virtualMs: number; afterKill: string; trace: Array<string> }>(
          await node(n.path, ["sim.mjs"])
        )
        assert.strictEqual(out.echoed, "hello across hosts")
        // handshake, the request and the answer over a 250 ms link
        assert.strictEqual(out.virtualMs, 1000)
        assert.strictEqual(out.afterKill, "ConnectionRefused")
        assert.match(out.trace.join("\n"), /^ +0ms listen server:7000\n[\s\S]*kill server\n.*vanished/)
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
