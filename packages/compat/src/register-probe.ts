/**
 * An empty module that `@sluice/compat/register` requires through its own hook
 * under a `node:` specifier at start-up, to find out whether this Node can
 * redirect `require("node:…")` (some versions with `module.registerHooks` crash
 * on it: nodejs/node#60005). See `register-hooks.ts`.
 *
 * @since 0.1.0
 */

/**
 * What the probe returns when the redirection worked.
 *
 * @category hooks
 * @since 0.1.0
 */
export const probe = true
