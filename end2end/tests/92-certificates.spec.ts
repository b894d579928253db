import path from "node:path";
import { expect, test } from "./fixtures";
import { mgmtPut, signIn } from "./helpers";

/** OpenSSL-made test certificates (see crates/domain/tests/certificates/README.md). */
const FIXTURES = path.join(__dirname, "../../crates/domain/tests/certificates");

/**
 * The Certificates page (issue 15): upload a PFX file with its password (a wrong password is
 * refused on the password field, nothing saved), paste PEM text, see subject, thumbprint and
 * expiry, and be refused deleting one a policy uses.
 */
test("certificates are uploaded from a file or pasted, listed and deleted", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const mgmt = mgmtPut(page, baseURL, "e2e-certificates", "certs");
  expect((await mgmt("", { displayName: "Certificates" })).ok()).toBeTruthy();
  expect((await mgmt("/apis/echo", { serviceUrl: "https://127.0.0.1:9/", path: "echo" })).ok()).toBeTruthy();

  await signIn(page);
  await page.goto("/services/certs/certificates");
  await expect(page.getByRole("heading", { name: "Certificates" })).toBeVisible();
  await expect(page.getByText("No certificates yet.")).toBeVisible();
  const rows = page.locator("table.table tbody tr");

  // A PFX file: the id comes from the file name; a wrong password is the password's fault.
  await page.getByRole("button", { name: "Upload certificate" }).click();
  await page.getByLabel("Certificate file").setInputFiles(path.join(FIXTURES, "openssl-aes.pfx"));
  await expect(page.getByText("Read openssl-aes.pfx")).toBeVisible();
  await expect(page.getByLabel("Id")).toHaveValue("openssl-aes");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByText("The password does not open this PFX file.")).toBeVisible();
  await expect(page.getByText("No certificates yet.")).toBeVisible();
  await page.getByLabel("Password").fill("Portcullis-1");
  await page.screenshot({ path: "test-results/certificate-upload.png", fullPage: true });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("openssl-client.example");
  await expect(rows.first()).toContainText("37274B61590E0F5C7578D9423CDB6439DDADD670");
  await expect(rows.first()).toContainText("Yes");

  // PEM text pasted: public key only.
  const pem = require("node:fs").readFileSync(path.join(FIXTURES, "rsa.pem"), "utf8");
  await page.getByRole("button", { name: "Upload certificate" }).click();
  await page.getByLabel("Id").fill("jwt-signer");
  await page.getByLabel("Or paste PEM text").fill(pem);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "jwt-signer" })).toContainText("No");
  await page.screenshot({ path: "test-results/certificates.png", fullPage: true });

  // Garbage is refused with the reason.
  await page.getByRole("button", { name: "Upload certificate" }).click();
  await page.getByLabel("Id").fill("junk");
  await page.getByLabel("Or paste PEM text").fill("not a certificate");
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByText("neither PEM text nor base64")).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(rows).toHaveCount(2);

  // In use by a policy: deleting is refused with the reason; the other one goes.
  const policy = await mgmt("/apis/echo/policy", {
    format: "xml",
    value: '<policies><inbound><base /><authentication-certificate certificate-id="openssl-aes" /></inbound></policies>',
  });
  expect(policy.ok(), await policy.text()).toBeTruthy();
  await page.reload();
  await expect(rows.filter({ hasText: "openssl-aes" })).toContainText("API echo");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete openssl-aes" }).click();
  await expect(page.getByText("is used by the policy at API echo")).toBeVisible();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete jwt-signer" }).click();
  await expect(rows).toHaveCount(1);
});
