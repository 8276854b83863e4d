/**
 * The packed build's last step (a package's `prepack`, after `tsc -b`): folds
 * groups of the package's modules into one file each, so that a process
 * loading the package opens few files — Node's ES module loader costs about
 * 0.8 ms per module, which is most of what importing `@sluice/compat` costs
 * (`bench/README.md`, "Import cost") — without a second copy of any module.
 *
 * Run in the package's directory: `node ../../scripts/bundle.ts <group> ...`,
 * a group being a comma-separated list of the package's public modules
 * (`src/<name>.ts`). esbuild bundles the group's modules and the internal
 * modules (`src/internal/*`) they import, from the sources (its source map
 * points at `src/`); every other import — other packages, Node's built-ins —
 * stays an import.
 *
 * - A group of one module is written in its place, `dist/<name>.js`.
 * - A larger group (one per package) goes to `dist/internal/bundle.js`, and
 *   each of its modules' `dist/<name>.js` becomes a stub re-exporting that
 *   module's exports from it: importing the package and one of its subpaths
 *   loads one copy of each class.
 *
 * The inlined internal modules' JavaScript is removed from `dist/` (their
 * declarations stay). The build fails if a group imports a public module of
 * its package outside the group, if two groups inline the same internal
 * module, or if a module left as `tsc` built it imports an inlined one: each
 * module has exactly one copy in the package.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"

const dir = process.cwd()
const src = path.join(dir, "src")
const dist = path.join(dir, "dist")
const groups = process.argv.slice(2).map((g) => g.split(",").filter((m) => m !== ""))

const fail = (message: string): never => {
  throw new Error(`bundle (${path.basename(dir)}): ${message}`)
}

if (groups.length === 0) fail("no group given")
if (groups.filter((g) => g.length > 1).length > 1) fail("more than one group of several modules")
const members = new Set(groups.flat())
for (const m of members) {
  if (m.startsWith("internal/") || !fs.existsSync(path.join(src, `${m}.ts`))) fail(`not a public module: ${m}`)
}
if (members.size !== groups.flat().length) fail("a module is in two groups")

const isInternal = (file: string) => path.relative(src, file).split(path.sep)[0] === "internal"

/** Keeps a group's relative imports inside it: its own modules and internal modules only. */
const insideGroup = (group: ReadonlyArray<string>): esbuild.Plugin => ({
  name: "inside-group",
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path)
      const name = path.relative(src, file).replace(/\.ts$/, "")
      if (isInternal(file) || group.includes(name)) return undefined
      return fail(`${args.importer} imports ${args.path}, a public module outside its group [${group.join(", ")}]`)
    })
  }
})

const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "es2023",
  packages: "external",
  // classes keep their names (`net.Socket.name` is "Socket") when the bundle renames a colliding binding
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: "warning"
} as const satisfies esbuild.BuildOptions

/** The names a module exports at run time (types left out), in order. */
const exportsOf = async (name: string): Promise<ReadonlyArray<string>> => {
  // bundled (packages left out), so that `export * from` a sibling counts the sibling's names
  const result = await esbuild.build({
    entryPoints: [path.join(src, `${name}.ts`)],
    bundle: true,
    packages: "external",
    write: false,
    metafile: true,
    format: "esm",
    outdir: dist,
    logLevel: "warning"
  })
  return Object.values(result.metafile.outputs).flatMap((o) => o.exports)
}

/** An export name as written in an export clause: bare when it is an identifier, else a string. */
const nameOf = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name))

/** Every internal module a build inlined, by its source path. */
const inlined = new Map<string, string>()
const record = (metafile: esbuild.Metafile, group: ReadonlyArray<string>) => {
  for (const input of Object.keys(metafile.inputs)) {
    const file = path.resolve(dir, input)
    if (!isInternal(file)) continue
    const other = inlined.get(file)
    if (other !== undefined && other !== group.join(",")) fail(`${input} would be in two groups: ${other}; ${group}`)
    inlined.set(file, group.join(","))
  }
}

for (const group of groups) {
  if (group.length === 1) {
    const name = group[0]!
    const result = await esbuild.build({
      ...common,
      entryPoints: [path.join(src, `${name}.ts`)],
      outfile: path.join(dist, `${name}.js`),
      plugins: [insideGroup(group)]
    })
    record(result.metafile, group)
    continue
  }
  const exported = new Map<string, ReadonlyArray<string>>()
  for (const name of group) exported.set(name, await exportsOf(name))
  // the bundle exports each module's names as "<module>.<name>"
  const entry = group.map((name) =>
    `export { ${exported.get(name)!.map((e) => `${nameOf(e)} as ${nameOf(`${name}.${e}`)}`).join(", ")} } from ${
      JSON.stringify(`./${name}.ts`)
    }`
  ).join("\n")
  const outfile = path.join(dist, "internal", "bundle.js")
  const result = await esbuild.build({
    ...common,
    stdin: { contents: entry, resolveDir: src, sourcefile: "bundle.ts", loader: "ts" },
    outfile,
    plugins: [insideGroup(group)]
  })
  record(result.metafile, group)
  for (const name of group) {
    const target = path.relative(path.dirname(path.join(dist, name)), outfile).split(path.sep).join("/")
    const stub = [
      `// ${name}'s code is in ${target}, one file for [${group.join(", ")}] (scripts/bundle.ts)`,
      `export { ${exported.get(name)!.map((e) => `${nameOf(`${name}.${e}`)} as ${nameOf(e)}`).join(", ")} } from ${
        JSON.stringify(target.startsWith(".") ? target : `./${target}`)
      }`,
      ""
    ].join("\n")
    fs.writeFileSync(path.join(dist, `${name}.js`), stub)
    fs.rmSync(path.join(dist, `${name}.js.map`), { force: true })
  }
}

// the inlined internal modules have no JavaScript of their own any more
const removed = new Set<string>()
for (const file of inlined.keys()) {
  const js = path.join(dist, path.relative(src, file)).replace(/\.ts$/, ".js")
  fs.rmSync(js, { force: true })
  fs.rmSync(`${js}.map`, { force: true })
  removed.add(js)
}
// and nothing left as tsc built it imports them
for (const f of fs.readdirSync(dist, { recursive: true, encoding: "utf8" })) {
  if (!f.endsWith(".js")) continue
  const file = path.join(dist, f)
  const code = fs.readFileSync(file, "utf8")
  for (const m of code.matchAll(/(?:from\s+|import\(\s*)"(\.[^"]+)"/g)) {
    if (removed.has(path.resolve(path.dirname(file), m[1]!))) fail(`dist/${f} imports ${m[1]}, which is inlined`)
  }
}
