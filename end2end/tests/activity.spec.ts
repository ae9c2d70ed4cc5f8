// Security activity, new-device alerts and "This wasn't me", hydrated and with JavaScript off.
import { expect, test } from "@playwright/test";
import { login, loginElsewhere, PASSWORD, signUpAndVerify } from "./actions";
import { latestLinkTo, uniqueEmail } from "./outbox";

const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

for (const js of [true, false]) {
  const how = js ? "with" : "without";

  test(`security activity lists what happened, newest first (${how} JavaScript)`, async ({ browser }) => {
    const page = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
    const email = uniqueEmail(`activity-${js}`);
    await signUpAndVerify(page, "Ada", email, js);
    const firefox = await browser.newContext({ javaScriptEnabled: js, userAgent: FIREFOX_ON_WINDOWS });
    const wrong = await firefox.newPage();
    await wrong.goto("/login");
    await login(wrong, email, "not her password");
    await expect(wrong.getByRole("alert")).toBeVisible();
    await loginElsewhere(firefox, email);

    await page.getByRole("navigation", { name: "Profile sections" }).getByRole("link", { name: "Security activity" }).click();
    await expect(page).toHaveURL(/\/profile\/activity$/);
    await expect(page.getByRole("heading", { name: "Security activity" })).toBeVisible();
    const events = page.getByRole("listitem");
    await expect(events).toHaveCount(5);
    await expect(events.nth(0)).toContainText("Signed in with a password");
    await expect(events.nth(0)).toContainText("Firefox on Windows");
    await expect(events.nth(1)).toContainText("Sign-in failed: wrong password");
    await expect(events.nth(2)).toContainText("Signed in with the link confirming the email address");
    await expect(events.nth(2)).toContainText("This device");
    await expect(events.nth(4)).toContainText("Account created");
    await firefox.close();
  });

  test(`"This wasn't me" in a new-sign-in alert signs out every browser (${how} JavaScript)`, async ({ browser }) => {
    const page = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
    const email = uniqueEmail(`secure-${js}`);
    await signUpAndVerify(page, "Ada", email, js);
    const stranger = await browser.newContext({ javaScriptEnabled: js, userAgent: FIREFOX_ON_WINDOWS });
    const theirs = await loginElsewhere(stranger, email);

    await page.goto(await latestLinkTo(email, "New sign-in to your account"));
    await expect(page.getByRole("heading", { name: "Secure your account" })).toBeVisible();
    await page.getByRole("button", { name: "Secure my account" }).click();
    await expect(page).toHaveURL(/\/login\?notice=account_secured$/);
    await expect(page.getByText("Your account is secured")).toBeVisible();
    // Hydrated, their tab left by itself; without JavaScript they find out at their next request.
    if (!js) await theirs.goto("/profile");
    await expect(theirs).toHaveURL(/\/login\?notice=session_ended$/);

    // The old password no longer works; the mailed link chooses a new one.
    await login(page, email, PASSWORD);
    await expect(page.getByRole("alert")).toBeVisible();
    await page.goto(await latestLinkTo(email, "Your account is secured"));
    await page.getByLabel("New password", { exact: true }).fill("a fresh private passphrase");
    await page.getByLabel("Confirm new password", { exact: true }).fill("a fresh private passphrase");
    await page.getByRole("button", { name: "Reset password" }).click();
    await expect(page).toHaveURL(/\/login\?notice=password_reset$/);
    await login(page, email, "a fresh private passphrase");
    await expect(page).toHaveURL(/\/profile$/);
    await stranger.close();
  });
}
