import { expect, test } from "./fixtures";
import { mgmtPut, signIn } from "./helpers";

/**
 * The Named values page (issue 15): add a plain and a secret value, show the secret, refuse a
 * bad display name with the field at fault, edit, and refuse to delete one a policy uses.
 */
test("named values are added, shown, edited and deleted", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-named", "named");
  expect((await mgmt("", { displayName: "Named" })).ok()).toBeTruthy();
  expect((await mgmt("/apis/echo", { serviceUrl: "http://127.0.0.1:9/", path: "echo" })).ok()).toBeTruthy();

  await signIn(page);
  await page.goto("/services/named/named-values");
  await expect(page.getByRole("heading", { name: "Named values" })).toBeVisible();
  await expect(page.getByText("No named values yet.")).toBeVisible();
  const rows = page.locator("table.table tbody tr");

  // A plain value.
  await page.getByRole("button", { name: "Add named value" }).click();
  await page.getByLabel("Display name").fill("TenantId");
  await page.getByRole("textbox", { name: "Value" }).fill("contoso");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("{{TenantId}}");
  await expect(rows.first()).toContainText("contoso");

  // A secret: masked in the list until asked for.
  await page.getByRole("button", { name: "Add named value" }).click();
  await page.getByLabel("Display name").fill("BackendKey");
  await page.getByRole("textbox", { name: "Value" }).fill("s3cr3t-value");
  await page.getByLabel(/Secret/).check();
  await page.getByLabel("Tags").fill("backend, prod");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(2);
  const secretRow = rows.filter({ hasText: "BackendKey" });
  await expect(secretRow).toContainText("(secret)");
  await expect(secretRow).not.toContainText("s3cr3t-value");
  await expect(secretRow).toContainText("backend, prod");
  await secretRow.getByRole("button", { name: "Show value of BackendKey" }).click();
  await expect(secretRow).toContainText("s3cr3t-value");

  // A bad display name: the field says why, nothing is saved.
  await page.getByRole("button", { name: "Add named value" }).click();
  await page.getByLabel("Display name").fill("has space");
  await page.getByRole("textbox", { name: "Value" }).fill("x");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("may contain only letters, digits")).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(rows).toHaveCount(2);

  // Edit.
  await page.getByRole("button", { name: "Edit TenantId" }).click();
  await page.getByRole("textbox", { name: "Value" }).fill("fabrikam");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(rows.filter({ hasText: "TenantId" })).toContainText("fabrikam");
  await page.screenshot({ path: "test-results/named-values.png", fullPage: true });

  // In use by a policy: deleting is refused with the reason.
  const policy = await mgmt("/apis/echo/policy", {
    format: "xml",
    value:
      '<policies><inbound><base /><set-header name="x-tenant" exists-action="override"><value>{{TenantId}}</value></set-header></inbound></policies>',
  });
  expect(policy.ok(), await policy.text()).toBeTruthy();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete TenantId" }).click();
  await expect(page.getByText("is used by a policy")).toBeVisible();
  await expect(rows).toHaveCount(2);

  // Not in use: deleted.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete BackendKey" }).click();
  await expect(rows).toHaveCount(1);
});
