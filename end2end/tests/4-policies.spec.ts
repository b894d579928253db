import { expect, test, type Page } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { copyFirstPrimaryKey, signIn } from "./helpers";

/**
 * The seed's two policy scenarios, written with the portal's policy forms: a product policy
 * that forbids the caller's IP, and a rate limit of 3 calls per minute per caller IP.
 * Builds on the Calculator API, product and subscription of the walkthrough spec.
 */

async function call(page: Page, key: string) {
  return page.request.post(`http://${GATEWAY}/calc`, {
    headers: { Host: "flowdemo.localhost", "Content-Type": "application/json", "Ocp-Apim-Subscription-Key": key },
    data: { a: 1, b: 2 },
  });
}

test("a product policy that forbids the caller's IP answers 403", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page);
  const key = await copyFirstPrimaryKey(page);
  expect((await call(page, key)).status()).toBe(200);

  await page.getByRole("link", { name: "Products" }).click();
  await page.getByRole("link", { name: "Policies of Calculator" }).click();
  await expect(page.getByTestId("policy-scope")).toHaveText("Product: Calculator");
  await page.getByRole("button", { name: "Restrict caller IPs…" }).click();
  await page.getByLabel("Forbid the addresses below").check();
  await page.getByLabel("Addresses and ranges").fill("127.0.0.1\n10.0.0.1-10.0.0.255");
  await page.getByRole("button", { name: "Apply" }).click();
  const editor = page.getByLabel("Policy XML");
  await expect(editor).toHaveValue(/<ip-filter action="forbid">/);
  await expect(editor).toHaveValue(/<address-range from="10.0.0.1" to="10.0.0.255" \/>/);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  await page.screenshot({ path: "test-results/policy-ip-filter.png", fullPage: true });

  const refused = await call(page, key);
  expect(refused.status()).toBe(403);
  const body = await refused.json();
  expect(body.statusCode).toBe(403);
  expect(body.message).toBe("Forbidden");

  // Reset to default: the product inherits again and the call passes.
  await page.getByRole("button", { name: "Reset to default" }).click();
  await expect(editor).toHaveValue(/<base \/>/);
  await expect(editor).not.toHaveValue(/ip-filter/);
  expect((await call(page, key)).status()).toBe(200);
});

test("rate-limit-by-key lets 3 calls through and answers the 4th with 429", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page);
  const key = await copyFirstPrimaryKey(page);

  await page.goto("/services/flowdemo/apis/calculator");
  await page.getByRole("navigation", { name: "API" }).getByRole("link", { name: "Policies" }).click();
  await expect(page.getByTestId("policy-scope")).toHaveText("API: Calculator Flow API");

  // A broken document is refused at its line, and nothing is saved.
  const editor = page.getByLabel("Policy XML");
  await editor.fill("<policies>\n  <inbound>\n    <base />\n    <rate-limit-by-key calls=\"three\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\" />\n  </inbound>\n</policies>");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("button", { name: "Line 4, column 31" })).toBeVisible();
  await expect(page.getByText("calls must be a whole number")).toBeVisible();
  await expect(page.locator(".gutter .faulty")).toHaveText("4");
  await page.screenshot({ path: "test-results/policy-error.png", fullPage: true });
  expect((await call(page, key)).status()).toBe(200);

  // The form writes the same policy correctly.
  await editor.fill("<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>");
  await page.getByRole("button", { name: "Limit call rate per key…" }).click();
  await page.getByLabel("Calls").fill("3");
  await page.getByLabel("Renewal period (seconds)").fill("60");
  await page.getByLabel("Counter key").selectOption("ip");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(editor).toHaveValue(
    /<rate-limit-by-key calls="3" renewal-period="60" counter-key="@\(context.Request.IpAddress\)" \/>/,
  );
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();

  for (let i = 1; i <= 3; i++) {
    const response = await call(page, key);
    expect(response.status(), `call ${i}`).toBe(200);
    expect(await response.json()).toEqual({ sum: 3 });
  }
  const limited = await call(page, key);
  expect(limited.status()).toBe(429);
  const retryAfter = Number(limited.headers()["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect((await limited.json()).message).toBe(`Rate limit is exceeded. Try again in ${retryAfter} seconds.`);

  // The effective policy shows the API's limit inside the product's and global sections.
  await page.getByRole("button", { name: "Calculate effective policy" }).click();
  await page.getByLabel("Caller's subscription").selectOption("calculator");
  await page.getByRole("button", { name: "Calculate", exact: true }).click();
  const effective = page.getByTestId("effective-policy");
  await expect(effective).toContainText("<rate-limit-by-key calls=\"3\"");
  await expect(effective).toContainText("<forward-request />");
  await page.screenshot({ path: "test-results/policy-effective.png", fullPage: true });

  // Snippets go into the right section.
  await page.getByLabel("Insert policy").selectOption("Set HTTP header");
  await expect(editor).toHaveValue(/<set-header name="x-example" exists-action="override">/);
  await expect(page.getByText("Unsaved changes")).toBeVisible();
});
