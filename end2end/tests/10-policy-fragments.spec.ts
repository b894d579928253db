import { expect, test } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { mgmtPut, signIn } from "./helpers";

/**
 * The Policy fragments page (issue 15): add a fragment in the policy editor, have its faults
 * marked at their line, see which policies include it, refuse to delete one that is
 * included, and check that the gateway runs it.
 */
test("policy fragments are added, checked, included and deleted", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-fragments", "frag");
  expect((await mgmt("", { displayName: "Fragments" })).ok()).toBeTruthy();

  await signIn(page);
  await page.goto("/services/frag/policy-fragments");
  await expect(page.getByRole("heading", { name: "Policy fragments" })).toBeVisible();
  await expect(page.getByText("No policy fragments yet.")).toBeVisible();
  const rows = page.locator("table.table tbody tr");

  // A fragment with a fault: nothing is saved, the fault names its line.
  await page.getByRole("button", { name: "Add policy fragment" }).click();
  await page.getByLabel("Name").fill("tenant-header");
  await page.getByLabel("Description").fill("Tells the backend the tenant");
  const editor = page.getByLabel("Policy fragment XML");
  await editor.fill(
    '<fragment>\n  <set-header name="x-tenant" exists-action="sometimes">\n    <value>contoso</value>\n  </set-header>\n</fragment>',
  );
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("Not saved: the fragment has faults.")).toBeVisible();
  await expect(page.getByRole("button", { name: /Line 2, column/ })).toBeVisible();
  await page.screenshot({ path: "test-results/policy-fragment-fault.png", fullPage: true });

  // Fixed: created.
  await editor.fill(
    '<fragment>\n  <set-header name="x-tenant" exists-action="override">\n    <value>contoso</value>\n  </set-header>\n</fragment>',
  );
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("tenant-header");
  await expect(rows.first()).toContainText("Tells the backend the tenant");
  await expect(rows.first()).toContainText("No policy");

  // An API whose policy includes it: the list says so, and the gateway runs it.
  expect((await mgmt("/apis/echo", { serviceUrl: "http://127.0.0.1:9/", path: "echo", subscriptionRequired: false })).ok()).toBeTruthy();
  expect((await mgmt("/apis/echo/operations/get", { method: "GET", urlTemplate: "/*" })).ok()).toBeTruthy();
  const policy = await mgmt("/apis/echo/policy", {
    format: "xml",
    value:
      '<policies><inbound><base /><include-fragment fragment-id="tenant-header" /><return-response><set-body>@(context.Request.Headers.GetValueOrDefault("x-tenant", "none"))</set-body></return-response></inbound></policies>',
  });
  expect(policy.ok(), await policy.text()).toBeTruthy();
  const tenant = async () => {
    const answer = await page.request.get(`http://${GATEWAY}/echo/x`, {
      headers: { host: `frag.localhost:${GATEWAY.split(":")[1]}` },
    });
    expect(answer.status(), await answer.text()).toBe(200);
    return answer.text();
  };
  expect(await tenant()).toBe("contoso");
  await page.reload();
  await expect(rows.first()).toContainText("API echo");
  await page.screenshot({ path: "test-results/policy-fragments.png", fullPage: true });

  // Edit: live on the next call through the gateway.
  await page.getByRole("button", { name: "Edit tenant-header" }).click();
  await editor.fill(
    '<fragment>\n  <set-header name="x-tenant" exists-action="override">\n    <value>fabrikam</value>\n  </set-header>\n</fragment>',
  );
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByLabel("Policy fragment XML")).toHaveCount(0);
  expect(await tenant()).toBe("fabrikam");

  // Included: deleting is refused with the reason.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete tenant-header" }).click();
  await expect(page.getByText("is included by the policy at API echo")).toBeVisible();
  await expect(rows).toHaveCount(1);
});
