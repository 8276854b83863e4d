/**
 * Typechecks every TypeScript and JavaScript code block of the READMEs a
 * newcomer copies from, and every `@example` block of the public modules'
 * JSDoc, against the packages' current sources.
 *
 * Each fenced block (`ts`, `typescript`, `js`) becomes its own module under
 * `.tsbuild/readme-snippets/`, checked by `tsc` with the repository's strict
 * settings; errors are reported at the line they come from. A block is
 * checked as written: it must carry its own imports and declarations.
 *
 * Run: `node scripts/check-readme-snippets.ts` (exit 1 on any error). The core
 * test `packages/core/test/Readme.test.ts` runs it, so CI keeps it checked.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")

/** The READMEs whose code blocks are checked. */
export const readmes: ReadonlyArray<string> = [
  "README.md",
  "packages/core/README.md",
  "packages/node-adapter/README.md",
  "packages/http/README.md"
]

/** The modules whose JSDoc examples are checked. */
const sourceDirs: ReadonlyArray<string> = [
  "packages/core/src",
  "packages/node-adapter/src",
  "packages/http/src",
  "packages/compat/src"
]

interface Snippet {
  readonly readme: string
  /** The README line of the block's first code line (1-based). */
  readonly line: number
  readonly file: string
  readonly code: string
}

const fence = /^```(ts|typescript|js)\s*$/

/** The fenced blocks of a file; in a source file, those of its JSDoc comments (the ` * ` margin removed). */
const extract = (readme: string): Array<Snippet> => {
  const raw = fs.readFileSync(path.join(root, readme), "utf8").split("\n")
  const lines = readme.endsWith(".md") ? raw : raw.map((l) => /^\s*\* ?(.*)$/.exec(l)?.[1] ?? "")
  const slug = readme.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase()
  const out: Array<Snippet> = []
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i] ?? "")
    if (open === null) continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end] !== "```") end++
    const ext = open[1] === "js" ? "js" : "ts"
    out.push({
      readme,
      line: start + 1,
      file: `${slug}-${String(start + 1).padStart(4, "0")}.${ext}`,
      // every block is a module of its own: names never clash between blocks
      code: `${lines.slice(start, end).join("\n")}\nexport {}\n`
    })
    i = end
  }
  return out
}

/** Writes the blocks out, runs `tsc`, and returns the errors mapped to README lines. */
export const check = (): { readonly snippets: number; readonly errors: ReadonlyArray<string> } => {
  const dir = path.join(root, ".tsbuild", "readme-snippets")
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const sources = sourceDirs.flatMap((dir) =>
    fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".ts")).map((f) => `${dir}/${f}`)
  )
  const snippets = [...readmes.filter((r) => fs.existsSync(path.join(root, r))), ...sources].flatMap(extract)
  for (const s of snippets) fs.writeFileSync(path.join(dir, s.file), s.code)
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: {
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        // blocks show values they do not use
        noUnusedLocals: false,
        types: ["node"]
      },
      include: ["*.ts", "*.js"]
    })
  )
  const tsc = path.join(root, "node_modules", ".bin", "tsc")
  const result = spawnSync(tsc, ["-p", dir, "--pretty", "false"], { encoding: "utf8" })
  const byFile = new Map(snippets.map((s) => [s.file, s]))
  const errors: Array<string> = []
  for (const raw of `${result.stdout}${result.stderr}`.split("\n")) {
    if (raw.trim() === "") continue
    const m = /^(?:.*[\\/])?([^\\/(]+)\((\d+),(\d+)\): (.*)$/.exec(raw)
    const s = m === null ? undefined : byFile.get(m[1] ?? "")
    if (m === null || s === undefined) errors.push(raw)
    else errors.push(`${s.readme}:${s.line + Number(m[2]) - 1}:${m[3]}: ${m[4]}`)
  }
  if (result.status !== 0 && errors.length === 0) errors.push(`tsc exited with ${String(result.status)}`)
  return { snippets: snippets.length, errors }
}

if (import.meta.main) {
  const { errors, snippets } = check()
  for (const e of errors) console.error(e)
  console.log(`${snippets} README and JSDoc code blocks checked, ${errors.length} errors`)
  process.exitCode = errors.length === 0 ? 0 : 1
}
