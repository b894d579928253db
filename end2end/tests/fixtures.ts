import { test as base, expect } from "@playwright/test";

export { expect };
export type { Page } from "@playwright/test";

/**
 * Playwright's `test`, with one twist: when PORTCULLIS_E2E_WASM_DELAY_MS is set, every page
 * gets the portal's wasm that much later, so each page stays server-rendered and not yet
 * interactive for a while. A test that clicks or types before hydration then fails instead
 * of passing by luck; scripts/test.sh runs the whole suite this way once.
 */
const wasmDelay = Number(process.env.PORTCULLIS_E2E_WASM_DELAY_MS ?? 0);

export const test = base.extend({
  page: async ({ page }, use) => {
    if (wasmDelay > 0) {
      await page.route("**/*.wasm", async (route) => {
        await new Promise((resolve) => setTimeout(resolve, wasmDelay));
        await route.continue();
      });
    }
    await use(page);
  },
});
