import { expect, test } from "@playwright/test";

test("the portal page renders and hydrates without errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  const wasm = page.waitForResponse((response) => response.url().endsWith(".wasm"));
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Portcullis" })).toBeVisible();
  await expect(page.getByText("portcullis token create --name NAME")).toBeVisible();
  expect((await wasm).status()).toBe(200);
  await page.waitForLoadState("networkidle");
  expect(errors).toEqual([]);
});

test("unknown pages say so", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
