import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The portal under test: the debug binary built by `cargo leptos build`, with a fresh data
// directory, on ports of its own so that a running `scripts/run.sh` does not interfere.
const portal = process.env.PORTCULLIS_E2E_PORTAL ?? "127.0.0.1:3110";
const gateway = process.env.PORTCULLIS_E2E_GATEWAY ?? "127.0.0.1:8110";
const demo = process.env.PORTCULLIS_E2E_DEMO ?? "127.0.0.1:7110";
// Made once, in the runner; its workers load this file again and must find the same one.
const dataDir = process.env.PORTCULLIS_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "portcullis-e2e-"));
process.env.PORTCULLIS_E2E_DATA_DIR = dataDir;
// The binary under test: the debug build by default; scripts/test.sh also runs the sign-in
// tests against the release build, whose wasm goes through wasm-opt.
const binary = process.env.PORTCULLIS_E2E_BINARY ?? "target/debug/portcullis";

/** The setup code the server under test uses, and the administrator the tests create. */
export const SETUP_CODE = "TEST-SETUP";
export const ADMIN = { username: "ada", password: "correct horse battery" };
export const GATEWAY = gateway;
/** Where the server under test keeps its data, and its binary (for `portcullis token create`). */
export const DATA_DIR = dataDir;
export const BINARY = binary;

export default defineConfig({
  testDir: "./tests",
  // portal.spec.ts creates the administrator; the others sign in (or create it when alone).
  fullyParallel: false,
  timeout: 30_000,
  // Assertions wait up to 10 s: CI builds and tests on two busy cores, and the second run
  // holds every page's wasm back 1.5 s. A real failure still fails, only later.
  expect: { timeout: 10_000 },
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://${portal}`,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `${binary} serve --data-dir ${dataDir} --portal-addr ${portal} --gateway-addr ${gateway} --demo-addr ${demo}`,
    cwd: "..",
    url: `http://${portal}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: { LEPTOS_SITE_ROOT: "target/site", RUST_LOG: "warn", PORTCULLIS_SETUP_CODE: SETUP_CODE },
  },
});
