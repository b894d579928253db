import { expect, test } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { copyFirstPrimaryKey, signIn } from "./helpers";

/** After N calls through the gateway, the Analytics page counts N more. */

test("the analytics page counts every call and lists the recent ones", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page);
  const key = await copyFirstPrimaryKey(page);

  await page.getByRole("link", { name: "Analytics" }).click();
  const total = page.getByTestId("total-calls");
  await expect(total).toBeVisible();
  const before = Number(await total.textContent());

  const N = 5;
  for (let i = 0; i < N; i++) {
    const response = await page.request.post(`http://${GATEWAY}/calc`, {
      headers: { Host: "flowdemo.localhost", "Content-Type": "application/json", "Ocp-Apim-Subscription-Key": key },
      data: { a: i, b: 1 },
    });
    expect(response.status()).toBe(200);
  }
  // Counts reach the database within a few seconds; Refresh until they show. At least N
  // more: calls of the tests before this one may still have been on their way when
  // `before` was read.
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(total).toHaveText(/^\d+$/, { timeout: 1000 });
    expect(Number(await total.textContent())).toBeGreaterThanOrEqual(before + N);
  }).toPass({ timeout: 20_000 });
  await expect(page.getByRole("img", { name: "Calls over time by result" })).toBeVisible();
  await expect(page.getByRole("table", { name: "By operation" })).toContainText("calculator › add2numbers");
  await page.screenshot({ path: "test-results/analytics.png", fullPage: true });

  await page.getByRole("tab", { name: "Requests" }).click();
  const recent = page.getByRole("table", { name: "Recent calls" });
  await expect(recent.getByRole("row").nth(1)).toContainText("POST");
  await expect(recent.getByRole("row").nth(1)).toContainText("/calc");
  await page.getByLabel("Status").selectOption("blocked");
  await expect(page.getByRole("table", { name: "Recent calls" }).or(page.getByText("No calls match."))).toBeVisible();
});
