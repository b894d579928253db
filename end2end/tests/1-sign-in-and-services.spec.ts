import { expect, test, type Page } from "./fixtures";
import { ADMIN, SETUP_CODE } from "../playwright.config";

/** Signs in through the form, as a person would. */
async function signIn(page: Page, password = ADMIN.password) {
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe.configure({ mode: "serial" });

test("first start asks for the setup code and creates the administrator", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto("/services");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Create administrator" })).toBeVisible();

  await page.getByLabel("Setup code").fill("WRONG-CODE");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Confirm password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.getByText("That is not the setup code.")).toBeVisible();

  await page.getByLabel("Setup code").fill(SETUP_CODE);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page).toHaveURL(/\/services$/);
  await expect(page.getByRole("heading", { name: "Services" })).toBeVisible();
  await page.screenshot({ path: "test-results/services-empty.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("a wrong password is refused with one generic message", async ({ page }) => {
  await signIn(page, "not the password");
  await expect(page.getByRole("alert").filter({ hasText: "The user name or password is not correct." })).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a signed-out visitor is sent to sign-in and back", async ({ page }) => {
  await page.goto("/services/anything/audit");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.screenshot({ path: "test-results/sign-in.png", fullPage: true });
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/services\/anything\/audit$/);
});

test("add a service, copy its gateway URL, sign out", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page);
  await expect(page).toHaveURL(/\/services$/);
  await page.getByRole("button", { name: "Add service" }).click();

  // Invalid input: an error next to the field, what was typed kept, nothing saved.
  await page.getByLabel("Service name").fill("Flow Demo");
  await page.getByLabel("Display name").fill("Flow demo");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("may contain only lowercase letters, digits and hyphens")).toBeVisible();
  await expect(page.getByLabel("Display name")).toHaveValue("Flow demo");
  await expect(page.getByText("No services yet.")).toBeVisible();
  await page.screenshot({ path: "test-results/services-invalid.png", fullPage: true });

  await page.getByLabel("Service name").fill("flowdemo");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/services\/flowdemo/);
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  const gatewayUrl = page.getByTestId("gateway-url");
  await expect(gatewayUrl).toHaveText(/^http:\/\/flowdemo\.localhost:\d+$/);
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByText("Copied")).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await gatewayUrl.textContent());
  await page.screenshot({ path: "test-results/service-overview.png", fullPage: true });

  // The same name again is refused.
  await page.goto("/services");
  await expect(page.getByRole("link", { name: "flowdemo" })).toBeVisible();
  await page.getByRole("button", { name: "Add service" }).click();
  await page.getByLabel("Service name").fill("flowdemo");
  await page.getByLabel("Display name").fill("Again");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText("A service named 'flowdemo' exists already.")).toBeVisible();

  await page.goto("/services/flowdemo/audit");
  await expect(page.getByRole("cell", { name: "admin:ada" }).first()).toBeVisible();
  await page.screenshot({ path: "test-results/audit.png", fullPage: true });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/services");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the session cookie is HttpOnly and SameSite=Strict; cross-site calls are refused", async ({ page, context, baseURL }) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/services$/);
  const session = (await context.cookies()).find((cookie) => cookie.name === "portcullis_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");

  // A server function called from another site is refused even with a valid session.
  const cookie = `portcullis_session=${session?.value}`;
  const forged = await page.request.post(`${baseURL}/api/list_services`, {
    headers: { Origin: "http://evil.example", Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(forged.status()).toBe(403);
  const sameSite = await page.request.post(`${baseURL}/api/list_services`, {
    headers: { Origin: baseURL!, Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(sameSite.status()).toBe(200);
  // Without a session the same call is refused.
  const anonymous = await page.request.post(`${baseURL}/api/list_services`, {
    headers: { Origin: baseURL!, Cookie: "", "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(anonymous.status()).toBe(401);
});

test("unknown pages say so", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
