// Two-factor authentication in a real browser: set it up from the profile with an authenticator app (the
// codes computed here from the secret key on the page), sign in with a code, then with a recovery code.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { expectHydrated, login, PASSWORD, signUpAndVerify } from "./actions";
import { uniqueEmail } from "./outbox";
import { totp } from "./totp";

async function logout(page: Page) {
  await page.getByRole("button", { name: "Logout" }).click();
  await expect(page).toHaveURL(/\/login/);
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("set up two-factor, then sign in with a code and with a recovery code", async ({ page }) => {
      const email = uniqueEmail(js ? "2fa-js" : "2fa-nojs");
      await signUpAndVerify(page, "Twofa", email, js);
      await expect(page.getByRole("heading", { name: "Sign-in methods" })).toBeVisible();
      await page.getByRole("link", { name: "Set up two-factor authentication" }).click();
      await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
      await expect(page.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
      await expect(page.getByText("Secret key", { exact: true })).toBeVisible();
      const secret = (await page.locator("#secret-key").innerText()).replace(/\s/g, "");
      await expectHydrated(page, js);

      const wrong = totp(secret, 5);
      await page.getByLabel("Code").fill(wrong);
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByRole("alert")).toContainText("That code did not work");

      await page.getByLabel("Code").fill(totp(secret));
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByRole("heading", { name: "Recovery codes" })).toBeVisible();
      const codes = await page.locator(".recovery-codes code").allInnerTexts();
      expect(codes).toHaveLength(10);
      const download = page.waitForEvent("download");
      await page.getByRole("link", { name: "Download" }).click();
      const file = readFileSync((await (await download).path())!, "utf8");
      for (const code of codes) expect(file).toContain(code);
      await page.getByRole("link", { name: "Done" }).click();
      await expect(page.getByText("On. 10 recovery codes left.")).toBeVisible();

      // The password alone no longer signs in: the next step asks for the app's code (the next one:
      // the one that turned it on cannot be used again).
      await logout(page);
      await login(page, email, PASSWORD);
      await expect(page).toHaveURL(/\/login\/two-factor$/);
      await expect(page.getByRole("heading", { name: "Two-factor authentication" })).toBeVisible();
      await expectHydrated(page, js);
      await page.getByLabel("Code").fill(totp(secret, 1));
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByRole("heading", { name: "Hello, Twofa" })).toBeVisible();

      // Lost the phone: a recovery code signs in, once.
      await logout(page);
      await login(page, email, PASSWORD);
      await expect(page).toHaveURL(/\/login\/two-factor$/);
      await page.getByLabel("Code").fill(codes[0]);
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByRole("heading", { name: "Hello, Twofa" })).toBeVisible();
      await expect(page.getByText("On. 9 recovery codes left.")).toBeVisible();

      // Turning it off takes the password again.
      const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Turn off two-factor authentication" }) });
      await form.getByLabel("Current password").fill(PASSWORD);
      await form.getByRole("button", { name: "Turn off two-factor authentication" }).click();
      await expect(page.getByText("Two-factor authentication is off.")).toBeVisible();
      await expect(page.getByRole("link", { name: "Set up two-factor authentication" })).toBeVisible();
    });
  });
}
