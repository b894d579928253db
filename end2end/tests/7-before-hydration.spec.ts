import { expect, test } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { copyFirstPrimaryKey, signIn } from "./helpers";

/**
 * The portal is rendered on the server and becomes interactive when its wasm has loaded.
 * Controls that only work in the browser are disabled until then, so what a person types in
 * the first moments is not silently replaced by hydration. Here the wasm is held back for
 * two seconds to make that window wide.
 */

test("the policy editor waits for the page to be interactive, and saves what was typed", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page);
  const key = await copyFirstPrimaryKey(page);

  await page.route("**/*.wasm", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await route.continue();
  });
  await page.goto("/services/flowdemo/apis/calculator/policies");
  const editor = page.getByLabel("Policy XML");
  const save = page.getByRole("button", { name: "Save", exact: true });
  // Server-rendered and not yet interactive: shown, but not editable.
  await expect(editor).toBeVisible();
  await expect(editor).toBeDisabled();
  await expect(save).toBeDisabled();

  // Playwright waits until the controls are enabled, as a person would have to.
  await editor.fill(
    '<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <outbound>\n    <base />\n    <set-header name="x-typed-early" exists-action="override">\n      <value>kept</value>\n    </set-header>\n  </outbound>\n</policies>',
  );
  await save.click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  await expect(editor).toHaveValue(/x-typed-early/);

  const response = await page.request.post(`http://${GATEWAY}/calc`, {
    headers: { Host: "flowdemo.localhost", "Content-Type": "application/json", "Ocp-Apim-Subscription-Key": key },
    data: { a: 2, b: 2 },
  });
  expect(response.status()).toBe(200);
  expect(response.headers()["x-typed-early"]).toBe("kept");
});

test("without script the page says what it needs", async ({ browser, baseURL }) => {
  // Pages stream their data in and hydrate; without script they cannot work at all.
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await expect(page.getByRole("alert").filter({ hasText: "needs JavaScript and WebAssembly" })).toBeVisible();
  await context.close();
});

test("with script the no-script notice is not shown", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await expect(page.getByText("needs JavaScript and WebAssembly")).toBeHidden();
});
