import { expect, test } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { mgmtPut, signIn } from "./helpers";

/**
 * The Backends page (issue 16): add a backend with a circuit breaker (a bad URL is refused on
 * its field, nothing saved), a healthy one and a pool over both; calls through the gateway
 * trip the breaker of the one that refuses connections and the pool fails over; the page
 * shows the breaker open, closes it by hand, and refuses to delete a pool's member.
 */
test("backends are added, their breakers trip and show, pools fail over", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-backends", "backends");
  expect((await mgmt("", { displayName: "Backends" })).ok()).toBeTruthy();
  expect((await mgmt("/apis/echo", { serviceUrl: "http://127.0.0.1:9/", path: "echo", subscriptionRequired: false })).ok()).toBeTruthy();
  expect((await mgmt("/apis/echo/operations/get", { method: "GET", urlTemplate: "/*" })).ok()).toBeTruthy();

  await signIn(page);
  await page.goto("/services/backends/backends");
  await expect(page.getByRole("heading", { name: "Backends", exact: true })).toBeVisible();
  await expect(page.getByText("No backends yet.")).toBeVisible();
  const rows = page.locator("table.table tbody tr");
  const row = (name: string) => rows.filter({ has: page.getByText(name, { exact: true }) });

  // A URL that is not http(s): refused on its field, nothing saved.
  await page.getByRole("button", { name: "Add backend" }).click();
  await page.getByLabel("Name", { exact: true }).fill("orders");
  await page.getByLabel("Runtime URL").fill("ftp://orders.example.com");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("must use http or https")).toBeVisible();
  await expect(page.getByText("No backends yet.")).toBeVisible();

  // Fixed, with a credential header and a breaker that trips at 2 failures.
  await page.getByLabel("Runtime URL").fill("http://127.0.0.1:9/orders");
  await page.getByLabel("Headers").fill("x-functions-key: abc123");
  await page.getByLabel("Stop calling the backend for a while").check();
  await page.getByLabel("Trips at (failures, or % of calls)").fill("2");
  await page.getByLabel("Stays open for (ISO 8601)").fill("PT5M");
  await page.screenshot({ path: "test-results/backend-form.png", fullPage: true });
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Closed");
  await expect(rows.first()).toContainText("Trips at 2 failures (500-599) within PT1M, for PT5M");

  // A healthy one (the portal itself answers) and a pool: orders first, healthy as standby.
  await page.getByRole("button", { name: "Add backend" }).click();
  await page.getByLabel("Name", { exact: true }).fill("healthy");
  await page.getByLabel("Runtime URL").fill(`${baseURL}/mgmt`);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(2);
  await page.getByRole("button", { name: "Add backend" }).click();
  await page.getByLabel("Name", { exact: true }).fill("orders-pool");
  await page.getByLabel("Pool of backends").check();
  await page.getByLabel("Members").fill("orders 1 1\nghost 2 1");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("The service has no backend 'ghost'.")).toBeVisible();
  await page.getByLabel("Members").fill("orders 1 1\nhealthy 2 1");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(rows).toHaveCount(3);
  await expect(row("orders-pool")).toContainText("healthy (priority 2, weight 1)");

  // Calls through the pool: orders refuses twice (502), trips, and the standby answers.
  const policy = await mgmt("/apis/echo/policy", {
    format: "xml",
    value: '<policies><inbound><base /><set-backend-service backend-id="orders-pool" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
  });
  expect(policy.ok(), await policy.text()).toBeTruthy();
  const call = async () =>
    (
      await page.request.get(`http://${GATEWAY}/echo/x`, {
        headers: { host: `backends.localhost:${GATEWAY.split(":")[1]}` },
      })
    ).status();
  expect(await call()).toBe(502);
  expect(await call()).toBe(502);
  const failedOver = await call();
  expect([502, 503]).not.toContain(failedOver);

  await page.reload();
  const orders = row("orders");
  await expect(orders).toContainText("Open — closes in");
  await expect(orders).toContainText("tripped 1×");
  await expect(row("orders-pool")).toContainText("API echo");
  await page.screenshot({ path: "test-results/backends.png", fullPage: true });

  // Closed by hand: the next calls go to orders again.
  await page.getByRole("button", { name: "Close the breaker of orders" }).click();
  await expect(orders).toContainText("Closed");
  expect(await call()).toBe(502);

  // A member cannot be deleted while the pool names it.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete orders", exact: true }).click();
  await expect(page.getByText("is used by pool orders-pool")).toBeVisible();
});
