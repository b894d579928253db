import { expect, test } from "./fixtures";
import { GATEWAY } from "../playwright.config";
import { copyFirstPrimaryKey, signIn } from "./helpers";

/**
 * The policy editor colours what APIM's leaves plain — C# expressions and named values —
 * and its snippets for the newer policies save as they are. Runs last: it uses the
 * Calculator API of the walkthrough spec and leaves its policy as it found it.
 */
test("the editor colours expressions and named values, and a Liquid snippet saves and runs", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page);
  const key = await copyFirstPrimaryKey(page);

  await page.goto("/services/flowdemo/apis/calculator");
  await page.getByRole("navigation", { name: "API" }).getByRole("link", { name: "Policies" }).click();
  await expect(page.getByTestId("policy-scope")).toHaveText("API: Calculator Flow API");
  const editor = page.getByLabel("Policy XML");
  await editor.fill(
    [
      "<policies>",
      "  <inbound>",
      "    <base />",
      '    <set-header name="x-caller" exists-action="override">',
      '      <value>@(context.Request.Method == "POST" ? "poster" : "reader")</value>',
      "    </set-header>",
      '    <authentication-basic username="flow" password="{{FlowPassword}}" />',
      "  </inbound>",
      "  <backend>",
      "    <base />",
      "  </backend>",
      "  <outbound>",
      "    <base />",
      "  </outbound>",
      "</policies>",
    ].join("\n"),
  );
  const colours = page.locator(".code-editor pre.highlight");
  await expect(colours.locator(".hl-expr")).toHaveText('@(context.Request.Method == "POST" ? "poster" : "reader")');
  await expect(colours.locator(".hl-named")).toHaveText("{{FlowPassword}}");
  await expect(colours.locator(".hl-tag").first()).toHaveText("<policies");
  await expect(colours.locator(".hl-attr").first()).toHaveText("name");
  // The coloured copy holds exactly the text typed.
  expect(await colours.textContent()).toBe((await editor.inputValue()) + "\n");
  await page.screenshot({ path: "test-results/policy-editor-colours.png", fullPage: true });

  // A snippet of the newer policies: a Liquid template on the flow's answer.
  await page.getByRole("button", { name: "Reset to default" }).click();
  await expect(editor).not.toHaveValue(/x-caller/);
  await page.getByLabel("Insert policy").selectOption("Transform JSON body with Liquid");
  await expect(editor).toHaveValue(/<set-body template="liquid">/);
  await expect(colours.locator(".hl-tag", { hasText: "<set-body" })).toHaveCount(1);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved — live on the gateway")).toBeVisible();
  const answer = await page.request.post(`http://${GATEWAY}/calc`, {
    headers: { Host: "flowdemo.localhost", "Content-Type": "application/json", "Ocp-Apim-Subscription-Key": key },
    data: { a: 1, b: 2 },
  });
  expect(answer.status()).toBe(200);
  const reshaped = await answer.json();
  expect(reshaped).toHaveProperty("id");
  expect(reshaped.names).toEqual([]);

  await page.getByRole("button", { name: "Reset to default" }).click();
  await expect(editor).not.toHaveValue(/liquid/);
});
