// Magic link, password reset and email change in a real browser.
import { expect, test } from "@playwright/test";
import { changePassword, expectHydrated, login, PASSWORD, register, signUpAndVerify } from "./actions";
import { latestCodeTo, latestLinkTo, uniqueEmail } from "./outbox";

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("a magic link asked for in one browser signs in another", async ({ page, browser }) => {
      const email = uniqueEmail(js ? "magic-js" : "magic-nojs");
      await signUpAndVerify(page, "Magic", email, js);

      const other = await browser.newContext({ javaScriptEnabled: js });
      const otherPage = await other.newPage();
      await otherPage.goto("/");
      await otherPage.getByRole("link", { name: "Login With Magic Link" }).click();
      await otherPage.getByLabel("Email", { exact: true }).fill(email);
      await otherPage.getByRole("button", { name: "Send magic link" }).click();
      await expect(otherPage.getByRole("heading", { name: "Check your email…" })).toBeVisible();
      await expect(otherPage.getByText("a link that signs you in")).toBeVisible();

      const link = await latestLinkTo(email, "Your sign-in link");
      await otherPage.goto(link);
      if (!js) {
        await otherPage.getByRole("button", { name: "Continue" }).click();
      }
      await expect(otherPage).toHaveURL(/\/profile$/);
      await expect(otherPage.getByRole("heading", { name: "Hello, Magic" })).toBeVisible();
      await other.close();
    });

    test("the code from the mail signs in on the page that asked for it", async ({ page }) => {
      const email = uniqueEmail(js ? "code-js" : "code-nojs");
      await page.goto("/register");
      await expectHydrated(page, js);
      await register(page, "Coded", email);
      await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();
      await expectHydrated(page, js);
      const code = await latestCodeTo(email, "Verify your email address");

      // A wrong code says so, and changes nothing.
      const wrong = code.slice(0, 5) + ((Number(code[5]) + 1) % 10);
      await page.getByLabel("Code").fill(wrong);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page.getByRole("alert")).toContainText("That code did not work");
      await expect(page.getByLabel("Code")).toBeFocused();

      await page.getByLabel("Code").fill(`${code.slice(0, 3)} ${code.slice(3)}`);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page).toHaveURL(/\/profile$/);
      await expect(page.getByRole("heading", { name: "Hello, Coded" })).toBeVisible();
    });

    test("forgot password, reset it, and only the new one works", async ({ page }) => {
      const email = uniqueEmail(js ? "reset-js" : "reset-nojs");
      const newPassword = "a completely new passphrase";
      await signUpAndVerify(page, "Reset", email, js);
      await page.getByRole("button", { name: "Logout" }).click();

      await page.getByRole("link", { name: "Forgot password?" }).click();
      await expect(page).toHaveURL(/\/forgot-password$/);
      await page.getByLabel("Email", { exact: true }).fill(email);
      await page.getByRole("button", { name: "Send reset link" }).click();
      await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();

      await page.goto(await latestLinkTo(email, "Reset your password"));
      await page.getByLabel("New password", { exact: true }).fill(newPassword);
      await page.getByLabel("Confirm new password", { exact: true }).fill("not the same");
      await page.getByRole("button", { name: "Reset password" }).click();
      await expect(page.getByText("The two passwords do not match")).toBeVisible();

      await page.getByLabel("New password", { exact: true }).fill(newPassword);
      await page.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
      await page.getByRole("button", { name: "Reset password" }).click();
      await expect(page).toHaveURL(/\/login\?notice=password_reset$/);
      await expect(page.getByText("Your password has been reset.")).toBeVisible();

      await login(page, email, PASSWORD);
      await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
      await login(page, email, newPassword);
      await expect(page.getByRole("heading", { name: "Hello, Reset" })).toBeVisible();
    });

    test("change the email address from the profile", async ({ page }) => {
      const email = uniqueEmail(js ? "change-js" : "change-nojs");
      const newEmail = uniqueEmail(js ? "changed-js" : "changed-nojs");
      await signUpAndVerify(page, "Mover", email, js);

      const form = page.getByRole("region", { name: "Change email" });
      await form.getByLabel("New email", { exact: true }).fill(newEmail);
      await form.getByLabel("Current password", { exact: true }).fill(PASSWORD);
      await form.getByRole("button", { name: "Change email" }).click();
      await expect(page.getByText("open the link we sent to your new address")).toBeVisible();

      // The browser that asked for the change confirms by itself once hydrated.
      await page.goto(await latestLinkTo(newEmail, "Confirm your new email address"));
      if (!js) {
        await expect(page.getByText("Continue only if you asked for this change yourself.")).toHaveCount(0);
        await page.getByRole("button", { name: "Confirm new address" }).click();
      }
      await expect(page).toHaveURL(/\/profile\?notice=email_changed$/);
      await expect(page.getByText("Your email address was changed.")).toBeVisible();
      await expect(page.getByText(newEmail).first()).toBeVisible();

      await page.getByRole("button", { name: "Logout" }).click();
      await login(page, newEmail, PASSWORD);
      await expect(page.getByRole("heading", { name: "Hello, Mover" })).toBeVisible();
    });

    test("an email change link opened in another browser waits for a click", async ({ page, browser }) => {
      const email = uniqueEmail(js ? "stay-js" : "stay-nojs");
      const newEmail = uniqueEmail(js ? "moved-js" : "moved-nojs");
      await signUpAndVerify(page, "Stayer", email, js);

      const form = page.getByRole("region", { name: "Change email" });
      await form.getByLabel("New email", { exact: true }).fill(newEmail);
      await form.getByLabel("Current password", { exact: true }).fill(PASSWORD);
      await form.getByRole("button", { name: "Change email" }).click();
      await expect(page.getByText("open the link we sent to your new address")).toBeVisible();
      const link = await latestLinkTo(newEmail, "Confirm your new email address");

      // Whoever reads the new address's mail, in a browser where the account is not signed in.
      const other = await browser.newContext({ javaScriptEnabled: js });
      const otherPage = await other.newPage();
      const submitted: string[] = [];
      otherPage.on("request", (request) => {
        if (new URL(request.url()).pathname === "/api/confirm_email_change") submitted.push(request.method());
      });
      await otherPage.goto(link);
      await expectHydrated(otherPage, js);
      await expect(otherPage.getByText("Continue only if you asked for this change yourself.")).toBeVisible();
      await expect(otherPage.getByText(newEmail).first()).toBeVisible();
      // A page that confirmed by itself would have done so right after hydrating.
      await otherPage.waitForTimeout(1000);
      expect(submitted).toEqual([]);
      await expect(otherPage).toHaveURL(/\/confirm-email-change\?token=/);
      await expect(otherPage.getByRole("button", { name: "Confirm new address" })).toBeVisible();

      // The account still has its address.
      await page.goto("/profile");
      await expect(page.getByText(email).first()).toBeVisible();
      await expect(page.getByText(newEmail)).toHaveCount(0);

      // Only the click moves it.
      await otherPage.getByRole("button", { name: "Confirm new address" }).click();
      await expect(otherPage).toHaveURL(/\/login\?notice=email_changed$/);
      await expect(otherPage.getByText("Your email address was changed.")).toBeVisible();
      await other.close();

      await page.goto("/profile");
      await expect(page.getByText(newEmail).first()).toBeVisible();
    });

    test("change the password from the profile", async ({ page }) => {
      const email = uniqueEmail(js ? "pw-js" : "pw-nojs");
      const newPassword = "another long passphrase";
      await signUpAndVerify(page, "Keys", email, js);
      const form = page.getByRole("region", { name: "Change password" });
      await changePassword(form, "not my password!", newPassword);
      await expect(form.getByText("That is not your current password.")).toBeVisible();

      await changePassword(form, PASSWORD, newPassword);
      await expect(page.getByText("Your password was changed.")).toBeVisible();
      if (js) {
        await expect(form.getByLabel("New password", { exact: true })).toHaveValue("");
      }
      await page.getByRole("button", { name: "Logout" }).click();
      await login(page, email, newPassword);
      await expect(page.getByRole("heading", { name: "Hello, Keys" })).toBeVisible();
    });
  });
}
