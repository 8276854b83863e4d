/**
 * The package boundaries of the design, checked on the sources: core imports
 * no Node built-in (it runs wherever Effect runs), compat imports neither
 * `node:net` nor `node:dns` (every byte and every name lookup goes through a
 * driver), and node-adapter is the only package that touches `node:net`.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith(".ts") ? [path] : []
  })

/**
 * The module specifiers a source imports, re-exports, `import()`s,
 * `require()`s or takes with `process.getBuiltinModule()`. Comments and the
 * text of other strings are skipped, so a doc
 * comment that names a module is not an import.
 */
const specifiers = (text: string): Array<string> => {
  const found: Array<string> = []
  // the code with comments removed and every string literal replaced by its number, quoted
  const strings: Array<string> = []
  let code = ""
  for (let i = 0; i < text.length;) {
    const c = text[i]!
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2)
      i = end === -1 ? text.length : end + 2
      code += " "
    } else if (c === "\"" || c === "'" || c === "`") {
      let j = i + 1
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1
      strings.push(text.slice(i + 1, j))
      code += ` "${strings.length - 1}" `
      i = j + 1
    } else {
      code += c
      i++
    }
  }
  const pattern = /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\(|\bgetBuiltinModule\s*\()\s*"(\d+)"/g
  for (const match of code.matchAll(pattern)) found.push(strings[Number(match[1])]!)
  return found
}

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
const isBuiltin = (specifier: string) => specifier.startsWith("node:") || builtins.has(specifier)

const importsOf = (pkg: string) =>
  sources(join(root, "packages", pkg, "src")).map((file) => ({
    file: relative(root, file),
    specifiers: specifiers(readFileSync(file, "utf8"))
  }))

describe("package boundaries", () => {
  it("the scanner finds imports and skips comments and other strings", () => {
    const text = [
      `import * as A from "effect/Effect"`,
      `import type { B } from 'node:net'`,
      `export { C } from "./c.ts"`,
      `import "side-effect"`,
      `const d = await import("node:dns")`,
      `const e = require("net")`,
      `// import x from "commented"`,
      `/** require("in-a-doc") */`,
      `const s = "from \\"not-an-import\\""`
    ].join("\n")
    assert.deepStrictEqual(specifiers(text), ["effect/Effect", "node:net", "./c.ts", "side-effect", "node:dns", "net"])
  })

  it("core imports no Node built-in", () => {
    const core = importsOf("core")
    assert.isAbove(core.length, 5)
    const offending = core.flatMap(({ file, specifiers }) => specifiers.filter(isBuiltin).map((s) => `${file}: ${s}`))
    assert.deepStrictEqual(offending, [])
  })

  it("compat imports neither node:net nor node:dns; only node-adapter imports node:net", () => {
    const forbidden = new Set(["net", "node:net", "dns", "node:dns", "dns/promises", "node:dns/promises"])
    const compat = importsOf("compat")
    assert.isAbove(compat.length, 5)
    assert.deepStrictEqual(
      compat.flatMap(({ file, specifiers }) => specifiers.filter((s) => forbidden.has(s)).map((s) => `${file}: ${s}`)),
      []
    )
    const net = new Set(["net", "node:net"])
    const adapter = importsOf("node-adapter")
    assert.isTrue(adapter.some(({ specifiers }) => specifiers.some((s) => net.has(s))))
    const packages = readdirSync(join(root, "packages")).filter((p) => p !== "node-adapter")
    assert.deepStrictEqual(
      packages.flatMap((p) =>
        importsOf(p).flatMap(({ file, specifiers }) => specifiers.filter((s) => net.has(s)).map((s) => `${file}: ${s}`))
      ),
      []
    )
  })
})
