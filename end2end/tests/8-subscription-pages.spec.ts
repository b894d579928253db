import { expect, test } from "./fixtures";
import { mgmtPut, signIn } from "./helpers";

/**
 * The Subscriptions list is paged and searched on the server (issue 14: with 100,000
 * subscriptions, loading every row was neither usable nor bounded). 60 subscriptions are
 * made through the management API; the page shows 50 at a time.
 */
test("the subscriptions list pages and searches", async ({ page, baseURL }) => {
  // Sixty writes, each published to the gateway before it answers, on a debug build.
  test.setTimeout(120_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-pages", "pages");
  const created = await mgmt("", { displayName: "Paging" });
  expect(created.ok(), `${created.status()} ${await created.text()}`).toBeTruthy();
  for (let i = 0; i < 60; i++) {
    const name = `sub-${String(i).padStart(3, "0")}`;
    const displayName = i % 20 === 0 ? `Partner ${i}` : `Tester ${i}`;
    expect((await mgmt(`/subscriptions/${name}`, { scope: "/apis", displayName })).ok()).toBeTruthy();
  }

  await signIn(page);
  await page.goto("/services/pages/subscriptions");
  const rows = page.locator("table.table tbody tr");
  await expect(page.getByText("1–50 of 60")).toBeVisible();
  await expect(rows).toHaveCount(50);
  await expect(page.getByText("Page 1 of 2")).toBeVisible();
  await expect(page.getByRole("button", { name: "Previous" })).toBeDisabled();

  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("51–60 of 60")).toBeVisible();
  await expect(rows).toHaveCount(10);
  await expect(rows.first()).toContainText("sub-050");
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(page.getByText("1–50 of 60")).toBeVisible();

  // Search: by display name, ignoring case, back to the first page.
  await page.getByLabel("Search subscriptions").fill("partner");
  await expect(page.getByText("1–3 of 3")).toBeVisible();
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText("Partner 0");
  await page.screenshot({ path: "test-results/subscriptions-search.png", fullPage: true });
  // By name.
  await page.getByLabel("Search subscriptions").fill("sub-05");
  await expect(page.getByText("1–10 of 10")).toBeVisible();
  await page.getByLabel("Search subscriptions").fill("nobody");
  await expect(page.getByText("No subscription's name or display name contains")).toBeVisible();
});
