import { execFileSync } from "node:child_process";
import { expect, type Page } from "@playwright/test";
import { ADMIN, BINARY, DATA_DIR } from "../playwright.config";

/** Signs the test administrator in (created by the first spec). */
export async function signIn(page: Page) {
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/services$/);
}

/** The primary key of the first subscription of flowdemo, copied through the clipboard. */
export async function copyFirstPrimaryKey(page: Page) {
  await page.goto("/services/flowdemo/subscriptions");
  // The button stays disabled until the page is hydrated; the click waits for it.
  await page.getByRole("button", { name: "Copy primary key" }).first().click();
  await expect(page.getByText("Copied primary key")).toBeVisible();
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * A management API token made with the binary (`portcullis token create`), and a `PUT`
 * under `/mgmt/services/{service}` with it.
 */
export function mgmtPut(page: Page, baseURL: string | undefined, tokenName: string, service: string) {
  const token = execFileSync(BINARY, ["token", "create", "--name", tokenName, "--data-dir", DATA_DIR], {
    cwd: "..",
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop()!
    .trim();
  return (path: string, data: object) =>
    page.request.put(`${baseURL}/mgmt/services/${service}${path}`, {
      headers: { Authorization: `Bearer ${token}` },
      data,
    });
}
