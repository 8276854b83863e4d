/**
 * A throwaway consumer project of the packed packages, as a new user has one:
 * the tarballs `npm pack` makes of the packages (its `prepack` builds `dist/`),
 * installed with `effect` and `@types/node` into a directory outside the
 * workspace, offline — the tarballs and the npm cache that `npm ci` filled,
 * no registry. Its processes run without the workspace's `NODE_OPTIONS`
 * (whose `--conditions=@sluice/source` would select the `.ts` sources).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

/** The repository's root. */
export const root = path.resolve(import.meta.dirname, "..")

/** The packages, in dependency order. */
export const packageDirs = [
  "packages/core",
  "packages/node-adapter",
  "packages/compat",
  "packages/http",
  "packages/sim"
] as const

/** What `npm pack --json` says of one tarball. */
export interface Packed {
  readonly name: string
  readonly version: string
  readonly filename: string
  readonly integrity: string
  readonly files: ReadonlyArray<{ readonly path: string }>
}

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of the consumer's processes: the test's, less what selects the workspace's sources. */
export const consumerEnv = (extra: Record<string, string> = {}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === "NODE_OPTIONS" || key.startsWith("VITEST") || key.startsWith("__VITEST")) {
      continue
    }
    env[key] = value
  }
  return { ...env, ...extra }
}

/** Runs a command to its end (bounded by `timeout`), collecting its output. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string>; readonly timeout?: number }
): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? consumerEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeout ?? 60_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** `stdout` and `stderr` of a result, for assertion messages. */
export const show = (r: Result): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** Packs the packages into `dest` (their `prepack` builds `dist/` first). */
export const pack = async (dest: string): Promise<ReadonlyArray<Packed>> => {
  const args = ["pack", ...packageDirs.flatMap((d) => ["-w", d]), "--pack-destination", dest, "--json"]
  const r = await run("npm", args, { cwd: root, timeout: 180_000 })
  if (r.code !== 0) throw new Error(`npm pack failed\n${show(r)}`)
  // prepack's own output goes to stdout too: the JSON array is the last thing printed
  return JSON.parse(r.stdout.slice(r.stdout.indexOf("\n[") + 1)) as ReadonlyArray<Packed>
}

interface LockEntry {
  readonly version: string
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
  readonly [key: string]: unknown
}

/**
 * The workspace's lockfile entries of `names` and of everything they depend
 * on, required peers included (npm installs those, as `redis` for
 * `@effect/platform-node`).
 */
const lockedClosure = (names: ReadonlyArray<string>): Record<string, LockEntry> => {
  const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
    readonly packages: Record<string, LockEntry>
  }
  const out: Record<string, LockEntry> = {}
  const visit = (name: string) => {
    const key = `node_modules/${name}`
    const entry = lock.packages[key]
    if (entry === undefined) throw new Error(`${name} is not in the workspace's package-lock.json`)
    if (key in out) return
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry
    out[key] = kept as LockEntry
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep)
    for (const peer of Object.keys(entry.peerDependencies ?? {})) {
      if (entry.peerDependenciesMeta?.[peer]?.optional !== true) visit(peer)
    }
  }
  for (const name of names) visit(name)
  return out
}

/** The registry packages the consumer installs beside the tarballs, at the workspace's locked versions. */
export const registryDeps = ["effect", "@effect/platform-node", "@types/node"] as const

/**
 * Makes the consumer project in `dir` (`package.json`, a `package-lock.json`
 * naming the tarballs and the workspace's locked versions of
 * {@link registryDeps}) and installs it with `npm ci --offline`.
 */
export const install = async (dir: string, packs: ReadonlyArray<Packed>, tarballs: string): Promise<void> => {
  const locked = lockedClosure(registryDeps)
  const dependencies: Record<string, string> = {}
  const packages: Record<string, unknown> = { ...locked }
  for (const name of registryDeps) dependencies[name] = locked[`node_modules/${name}`]?.version ?? "*"
  for (const p of packs) {
    const spec = `file:${path.relative(dir, path.join(tarballs, p.filename))}`
    dependencies[p.name] = spec
    const manifest = JSON.parse(fs.readFileSync(path.join(root, packageDir(p.name), "package.json"), "utf8")) as {
      readonly [key: string]: unknown
    }
    const fields = ["dependencies", "peerDependencies", "peerDependenciesMeta", "engines", "license"] as const
    packages[`node_modules/${p.name}`] = {
      version: p.version,
      resolved: spec,
      integrity: p.integrity,
      ...Object.fromEntries(fields.filter((f) => manifest[f] !== undefined).map((f) => [f, manifest[f]]))
    }
  }
  const manifest = { name: "sluice-consumer", version: "1.0.0", private: true, type: "module", dependencies }
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2))
  const lock = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: manifest.name, version: manifest.version, dependencies }, ...packages }
  }
  fs.writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify(lock, null, 2))
  const r = await run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: dir,
    timeout: 120_000
  })
  if (r.code !== 0) throw new Error(`npm ci --offline in the consumer failed\n${show(r)}`)
}

/**
 * Packs the packages into `dir/tarballs` and installs them into the consumer
 * project `dir/app`.
 */
export const makeConsumer = async (dir: string): Promise<{ app: string; packs: ReadonlyArray<Packed> }> => {
  const tarballs = path.join(dir, "tarballs")
  const app = path.join(dir, "app")
  fs.mkdirSync(tarballs, { recursive: true })
  fs.mkdirSync(app, { recursive: true })
  const packs = await pack(tarballs)
  await install(app, packs, tarballs)
  return { app, packs }
}

/** The workspace directory of a package (`@sluice/core` → `packages/core`). */
export const packageDir = (name: string): string => {
  const dir = packageDirs.find((d) => name === `@sluice/${path.basename(d)}`)
  if (dir === undefined) throw new Error(`not a workspace package: ${name}`)
  return dir
}

/**
 * The public modules of a packed package: `dist/*.js` outside `internal/`, as
 * specifiers (`@sluice/core`, `@sluice/core/Address`, ...).
 */
export const publicModules = (p: Packed): Array<string> =>
  p.files
    .map((f) => /^dist\/([^/]+)\.js$/.exec(f.path)?.[1])
    .filter((m): m is string => m !== undefined)
    .map((m) => (m === "index" ? p.name : `${p.name}/${m}`))
    .toSorted()

/** `v24.1.0` or `24.1.0` as numbers; missing parts are 0. */
const versionParts = (version: string): [number, number, number] => {
  const [major = 0, minor = 0, patch = 0] = version.replace(/^v/, "").split(".").map(Number)
  return [major, minor, patch]
}

const compare = (a: readonly [number, number, number], b: readonly [number, number, number]): number =>
  a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

/**
 * Whether a Node `version` satisfies an `engines` range, of the forms the
 * packages use: alternatives joined by `||`, each `>=x.y.z`, `^x.y.z` or an
 * exact `x.y.z` (a missing minor or patch is 0). Any other form throws.
 */
export const admits = (range: string, version: string): boolean => {
  const v = versionParts(version)
  return range.split("||").map((r) => r.trim()).some((r) => {
    const m = /^(>=|\^)?v?(\d+(?:\.\d+){0,2})$/.exec(r)
    if (m === null) throw new Error(`engines range not understood: ${JSON.stringify(r)} in ${JSON.stringify(range)}`)
    const base = versionParts(m[2]!)
    if (m[1] === ">=") return compare(v, base) >= 0
    if (m[1] === "^") return v[0] === base[0] && compare(v, base) >= 0
    return compare(v, base) === 0
  })
}
