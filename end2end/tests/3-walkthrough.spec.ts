import { expect, test, type Page } from "./fixtures";
import { ADMIN, GATEWAY } from "../playwright.config";

/** The seed's walkthrough, as a person would do it in the portal, with real gateway calls. */

const demo = process.env.PORTCULLIS_E2E_DEMO ?? "127.0.0.1:7110";

async function call(page: Page, key?: string) {
  const headers: Record<string, string> = { Host: "flowdemo.localhost", "Content-Type": "application/json" };
  if (key) headers["Ocp-Apim-Subscription-Key"] = key;
  return page.request.post(`http://${GATEWAY}/calc`, { headers, data: { a: 1, b: 2 } });
}

test("products, subscriptions and keys control the gateway at once", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/services$/);

  // flowdemo exists from the first spec; add the Calculator API with its operation.
  await page.goto("/services/flowdemo/apis");
  await page.getByRole("button", { name: "Add API" }).click();
  await page.getByRole("button", { name: /Blank API/ }).click();
  await page.getByLabel("Display name").fill("Calculator Flow API");
  await page.getByLabel("Name", { exact: true }).fill("calculator");
  await page.getByLabel("Web service URL").fill(`http://${demo}`);
  await page.getByLabel("API URL suffix").fill("calc");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/apis\/calculator/);
  await page.getByRole("button", { name: "Add operation" }).click();
  await page.getByLabel("Display name").fill("Add2Numbers");
  await page.getByLabel("Method").selectOption("POST");
  await page.getByLabel("URL template").fill("/");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("cell", { name: "Add2Numbers", exact: true })).toBeVisible();

  // A product without subscription, with the API: the call works.
  await page.getByRole("link", { name: "Products" }).click();
  await page.getByRole("button", { name: "Add product" }).click();
  await page.getByLabel("Display name").fill("Calculator");
  await page.getByLabel("Description").fill("Adds two numbers.");
  await page.getByLabel("Requires subscription").uncheck();
  await page.getByLabel("Published").check();
  await page.getByLabel("Calculator Flow API").check();
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("button", { name: "Edit Calculator" })).toBeVisible();
  let response = await call(page);
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ sum: 3 });

  // Tick Requires subscription: the same call gets 401.
  await page.getByRole("button", { name: "Edit Calculator" }).click();
  await page.getByLabel("Requires subscription").check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("cell", { name: "required", exact: true })).toBeVisible();
  expect((await call(page)).status()).toBe(401);
  await page.screenshot({ path: "test-results/products.png", fullPage: true });

  // A subscription to the product; copy its primary key from the clipboard.
  await page.getByRole("link", { name: "Subscriptions" }).click();
  await page.getByRole("button", { name: "Add subscription" }).click();
  await page.getByLabel("Name", { exact: true }).fill("tester");
  await page.getByLabel("Display name").fill("Tester");
  await page.getByLabel("Scope").selectOption("product");
  await page.getByLabel("Product", { exact: true }).selectOption("calculator");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("cell", { name: "/products/calculator" })).toBeVisible();
  await page.getByRole("button", { name: "Copy primary key" }).click();
  await expect(page.getByText("Copied primary key")).toBeVisible();
  const key = await page.evaluate(() => navigator.clipboard.readText());
  expect(key).toMatch(/^[0-9a-f]{32}$/);
  response = await call(page, key);
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ sum: 3 });

  await page.getByRole("button", { name: "Show keys" }).click();
  await expect(page.getByTestId("primary-key")).toHaveText(key);
  await page.screenshot({ path: "test-results/subscriptions.png", fullPage: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.screenshot({ path: "test-results/subscriptions-1024.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 720 });

  // Regenerate: the old key gets 401 on the next call.
  await page.getByRole("button", { name: "Regenerate primary key" }).click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  expect((await call(page, key)).status()).toBe(401);
  await page.getByRole("button", { name: "Copy primary key" }).click();
  await expect(page.getByText("Copied primary key")).toBeVisible();
  const fresh = await page.evaluate(() => navigator.clipboard.readText());
  expect(fresh).not.toBe(key);
  expect((await call(page, fresh)).status()).toBe(200);

  // Suspend: 401; activate: 200 again.
  await page.getByRole("button", { name: "Suspend" }).click();
  await expect(page.getByText("suspended", { exact: true })).toBeVisible();
  expect((await call(page, fresh)).status()).toBe(401);
  await page.getByRole("button", { name: "Activate" }).click();
  await expect(page.getByText("active", { exact: true })).toBeVisible();
  expect((await call(page, fresh)).status()).toBe(200);

  // Cancel (after a confirmation): 401, and nothing left to cancel; Activate brings it back.
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  await expect(page.getByText("cancelled", { exact: true })).toBeVisible();
  expect((await call(page, fresh)).status()).toBe(401);
  await expect(page.getByRole("button", { name: "Cancel", exact: true })).toHaveCount(0);
  await page.getByRole("button", { name: "Activate" }).click();
  await expect(page.getByText("active", { exact: true })).toBeVisible();
  expect((await call(page, fresh)).status()).toBe(200);

  // The session ends while the page is open (signed out elsewhere): Create and Suspend are
  // refused, the page says so once, pinned to the top, and offers to sign in again — back
  // to this page. Nothing on the page is lost: the form keeps what was typed, the list stays.
  await page.getByRole("button", { name: "Add subscription" }).click();
  await page.getByLabel("Name", { exact: true }).fill("second");
  await page.getByLabel("Display name").fill("Second tester");
  await context.clearCookies();
  await page.getByRole("button", { name: "Create" }).click();
  const ended = page.getByRole("alert").filter({ hasText: "Your session has ended" });
  await expect(ended).toBeVisible();
  await expect(page.getByLabel("Display name")).toHaveValue("Second tester");
  await page.getByRole("button", { name: "Suspend" }).click();
  await expect(page.getByRole("button", { name: "Suspend" })).toBeEnabled();
  await expect(ended).toHaveCount(1);
  await expect(page.getByRole("cell", { name: "tester", exact: true })).toBeVisible();
  await expect(page.getByText("Saved — live on the gateway")).toBeHidden();
  await expect(page.getByRole("banner").getByText("Signed out")).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign out" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/session-ended.png", fullPage: true });
  expect((await call(page, fresh)).status()).toBe(200);
  await ended.getByRole("link", { name: "Sign in again" }).click();
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/services\/flowdemo\/subscriptions$/);
  await expect(page.getByRole("button", { name: "Suspend" })).toBeVisible();
});
