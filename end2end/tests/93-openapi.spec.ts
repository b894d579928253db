import fs from "node:fs";
import path from "node:path";
import { expect, test } from "./fixtures";
import { mgmtPut, signIn } from "./helpers";

/** Public OpenAPI documents (see crates/openapi/tests/corpus/SOURCES.md). */
const CORPUS = path.join(__dirname, "../../crates/openapi/tests/corpus");

/**
 * Issue 16 in the browser: Add API → OpenAPI from a file with a preview, the API page it
 * opens, the exports (OpenAPI 3 and the Power Platform connector) as downloads, and Import
 * into the existing API from pasted text.
 */
test("an API is created from an OpenAPI file, exported and imported into", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-openapi", "oas");
  expect((await mgmt("", { displayName: "OpenAPI" })).ok()).toBeTruthy();

  await signIn(page);
  await page.goto("/services/oas/apis");
  await page.getByRole("button", { name: "Add API" }).click();
  await page.getByRole("button", { name: /OpenAPI/ }).click();
  await page.getByLabel("OpenAPI file").setInputFiles(path.join(CORPUS, "oai__petstore.yaml"));
  const preview = page.getByTestId("openapi-preview");
  await expect(preview).toContainText("Swagger Petstore: 3 operations");
  await expect(preview).toContainText("listpets");
  await expect(preview).toContainText("/pets/{petId}");
  await expect(page.getByLabel("API URL suffix")).toHaveValue("swagger-petstore");
  await expect(page.getByLabel("Web service URL")).toHaveValue("http://petstore.swagger.io/v1");
  await page.screenshot({ path: "test-results/openapi-preview.png", fullPage: true });
  await page.getByRole("button", { name: "Create", exact: true }).click();

  await expect(page).toHaveURL(/\/services\/oas\/apis\/swagger-petstore/);
  await expect(page.getByRole("heading", { name: "Swagger Petstore" })).toBeVisible();
  const rows = page.locator("table.table tbody tr");
  await expect(rows).toHaveCount(3);

  // Exports download as files addressed to the gateway.
  const [json] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "OpenAPI 3 (JSON)" }).click(),
  ]);
  const exported = JSON.parse(fs.readFileSync(await json.path(), "utf8"));
  expect(exported.openapi).toBe("3.0.1");
  expect(exported.servers[0].url).toMatch(/^http:\/\/oas\.localhost:\d+\/swagger-petstore$/);
  expect(Object.keys(exported.paths)).toEqual(["/pets", "/pets/{petId}"]);
  const [connector] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Power Platform connector" }).click(),
  ]);
  expect(connector.suggestedFilename()).toBe("swagger-petstore.connector.swagger.json");
  const definition = JSON.parse(fs.readFileSync(await connector.path(), "utf8"));
  expect(definition.swagger).toBe("2.0");
  expect(definition.securityDefinitions.apiKeyHeader.name).toBe("Ocp-Apim-Subscription-Key");

  // Import another document into this API, pasted: its operations answering the same calls
  // take the place of the three (renamed, policies kept) and DELETE /pets/{id} is added.
  const form = page.locator("section.panel", { hasText: "Import OpenAPI" });
  await page.locator(".page-head").getByRole("button", { name: "Import", exact: true }).click();
  await page
    .getByLabel("Or paste the document")
    .fill(fs.readFileSync(path.join(CORPUS, "oai__petstore-expanded.json"), "utf8"));
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(preview).toContainText("4 operations");
  await form.getByRole("button", { name: "Import", exact: true }).click();
  await expect(form).toHaveCount(0);
  await expect(rows).toHaveCount(4);
  await expect(page.locator("table.table")).toContainText("deletePet");
  await expect(page.locator("table.table")).toContainText("find pet by id");
  await page.screenshot({ path: "test-results/openapi-api.png", fullPage: true });

  // A document that refers to other files is refused with the reason, nothing changes.
  await page.locator(".page-head").getByRole("button", { name: "Import", exact: true }).click();
  const separate = fs.readFileSync(path.join(CORPUS, "oai__swagger.json"), "utf8");
  await form.getByLabel("Or paste the document").fill(separate);
  await expect(form.getByLabel("Or paste the document")).toHaveValue(separate);
  await form.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.getByText("refers to other files")).toBeVisible();
  await form.getByRole("button", { name: "Cancel" }).click();
  await expect(rows).toHaveCount(4);
});
