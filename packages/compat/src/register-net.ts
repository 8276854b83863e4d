/**
 * The module that `net` and `node:net` resolve to under
 * `node --import @sluice/compat/register`: compat over the node driver, shaped like
 * the built-in. a default import of `net` gets the module object, the named imports
 * its members, and a `require` of `net` the module object itself (the
 * `"module.exports"` export), exactly as with `node:net`.
 *
 * @since 0.1.0
 */
import net from "./index.ts"

export * from "./index.ts"

export default net

export { net as "module.exports" }
