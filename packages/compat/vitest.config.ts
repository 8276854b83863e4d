import { defineProject } from "vitest/config"
import { project } from "../../vitest.shared.ts"

const config = project("compat")

export default defineProject({
  ...config,
  // the servers of the real-client tests, installed once before any test file runs
  test: { ...config.test, globalSetup: ["./test/clients/setup.ts"] }
})
