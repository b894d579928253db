import { expect, test } from "./fixtures";
import { signIn } from "./helpers";

/** The Test tab: a real call through the gateway, and its trace. */

test("the console calls the operation through the gateway and traces it", async ({ page }) => {
  await signIn(page);
  // The API admits the local caller and counts its calls.
  await page.goto("/services/flowdemo/apis/calculator/policies");
  await page
    .getByLabel("Policy XML")
    .fill(
      '<policies>\n  <inbound>\n    <base />\n    <ip-filter action="allow">\n      <address>127.0.0.1</address>\n    </ip-filter>\n    <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />\n  </inbound>\n</policies>',
    );
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();

  await page.getByRole("navigation", { name: "API" }).getByRole("link", { name: "Test" }).click();
  await expect(page.getByRole("heading", { name: "Add2Numbers" })).toBeVisible();
  // The key header is filled in from the built-in all-access subscription, masked.
  const key = page.getByLabel("Subscription key");
  await expect(key).toHaveAttribute("type", "password");
  await expect(key).toHaveValue(/^[0-9a-f]{32}$/);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(key).toHaveAttribute("type", "text");
  await expect(page.getByTestId("request-url")).toHaveText(/^http:\/\/flowdemo\.localhost:\d+\/calc\/$/);

  await page.getByLabel("Body").fill('{"a": 1, "b": 2}');
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("status-line")).toHaveText("HTTP/1.1 200 OK");
  await expect(page.getByTestId("response-body")).toContainText('"sum": 3');

  // Query parameters show up in the request URL as they are typed.
  await page.getByRole("button", { name: "Add parameter" }).click();
  await page.getByLabel("parameter name").fill("note");
  await page.getByLabel("parameter value").fill("a b");
  await expect(page.getByTestId("request-url")).toHaveText(/\/calc\/\?note=a%20b$/);

  await page.getByRole("button", { name: "Trace" }).click();
  const trace = page.getByTestId("trace");
  await expect(trace).toBeVisible();
  await expect(trace.getByRole("row", { name: /ip-filter.*127\.0\.0\.1 allowed/ })).toBeVisible();
  await expect(trace.getByRole("row", { name: /rate-limit-by-key.*of 100 calls in 60 s/ })).toBeVisible();
  await expect(trace.getByRole("row", { name: /forward-request.*200 OK/ })).toBeVisible();
  await page.screenshot({ path: "test-results/console-trace.png", fullPage: true });
  await page.getByRole("tab", { name: "Message" }).click();
  await expect(page.getByTestId("response-body")).toContainText('"sum": 3');
});
