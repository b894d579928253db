import { expect, test, type Page } from "./fixtures";
import { ADMIN, GATEWAY, SETUP_CODE } from "../playwright.config";

async function signIn(page: Page) {
  await page.goto("/sign-in");
  if (page.url().includes("/setup")) {
    // Running alone: create the administrator first.
    await page.getByLabel("Setup code").fill(SETUP_CODE);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByLabel("Confirm password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create administrator" }).click();
    await expect(page).toHaveURL(/\/services$/);
    return;
  }
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/services$/);
}

/** A real call through the gateway, addressed to the service's host. */
async function callCalculator(page: Page) {
  return page.request.post(`http://${GATEWAY}/calc`, {
    headers: { Host: "calcdemo.localhost", "Content-Type": "application/json" },
    data: { a: 1, b: 2 },
  });
}

test("add a blank API and its operations; edit and delete them", async ({ page }) => {
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page);
  await page.getByRole("button", { name: "Add service" }).click();
  await page.getByLabel("Service name").fill("calcdemo");
  await page.getByLabel("Display name").fill("Calculator demo");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/services\/calcdemo/);

  await page.getByRole("link", { name: "APIs" }).click();
  await expect(page.getByRole("heading", { name: "APIs" })).toBeVisible();
  await page.getByRole("button", { name: "Add API" }).click();
  await page.getByRole("button", { name: /Blank API/ }).click();
  await page.getByLabel("Display name").fill("Calculator Flow API");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("calculator-flow-api");
  await expect(page.getByLabel("Subscription required")).toBeChecked();

  // A malformed URL: a field error, the input kept, nothing saved.
  await page.getByLabel("Web service URL").fill("demo-flow/calc");
  await page.getByLabel("API URL suffix").fill("calc");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("is not an absolute URL")).toBeVisible();
  await expect(page.getByLabel("API URL suffix")).toHaveValue("calc");
  await page.screenshot({ path: "test-results/api-invalid.png", fullPage: true });

  const demo = process.env.PORTCULLIS_E2E_DEMO ?? "127.0.0.1:7110";
  await page.getByLabel("Web service URL").fill(`http://${demo}`);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/apis\/calculator-flow-api/);
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  await expect(page.getByTestId("api-url")).toHaveText(/^http:\/\/calcdemo\.localhost:\d+\/calc$/);
  await expect(page.getByText("every call to this API gets 404")).toBeVisible();
  expect((await callCalculator(page)).status()).toBe(404);

  await page.getByRole("button", { name: "Add operation" }).click();
  await page.getByLabel("Display name").fill("Add2Numbers");
  await page.getByLabel("Method").selectOption("POST");
  await page.getByLabel("URL template").fill("/{a}/{a}");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("appears twice")).toBeVisible();
  await page.getByLabel("URL template").fill("/");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("cell", { name: "Add2Numbers", exact: true })).toBeVisible();
  await page.screenshot({ path: "test-results/api-operations.png", fullPage: true });

  // Live at once: the gateway now finds the operation and asks for a key.
  const call = await callCalculator(page);
  expect(call.status()).toBe(401);
  expect((await call.json()).message).toContain("missing subscription key");

  await page.getByRole("button", { name: "Edit Add2Numbers" }).click();
  await page.getByLabel("URL template").fill("/sum");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("cell", { name: "/sum" })).toBeVisible();
  expect((await callCalculator(page)).status()).toBe(404);

  // Edit the API: a new suffix is live at once.
  await page.getByRole("button", { name: "Edit API" }).click();
  await page.getByLabel("API URL suffix").fill("calc v2");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("may contain letters, digits")).toBeVisible();
  await page.getByLabel("API URL suffix").fill("calc2");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("api-url")).toHaveText(/\/calc2$/);

  await page.getByRole("button", { name: "Delete Add2Numbers" }).click();
  await expect(page.getByRole("cell", { name: "Add2Numbers", exact: true })).toHaveCount(0);

  await page.getByRole("button", { name: "Delete API" }).click();
  await expect(page).toHaveURL(/\/services\/calcdemo\/apis$/);
  await expect(page.getByText("No APIs yet.")).toBeVisible();
});
