// Managed sessions across three browsers signed in as one user, hydrated and with JavaScript off.
import { type Browser, expect, test } from "@playwright/test";
import { changePassword, expectHydrated, loginElsewhere, PASSWORD, signUpAndVerify } from "./actions";
import { uniqueEmail } from "./outbox";

const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

/** Ada, signed up in one browser and signed in on two more (the first of them Firefox on Windows); returns
 * the three browsers and the first one's page, reloaded on the profile so its list shows all three. */
async function adaOnThreeDevices(browser: Browser, email: string, js: boolean) {
  const [here, firefox, third] = await Promise.all([
    browser.newContext({ javaScriptEnabled: js }),
    browser.newContext({ javaScriptEnabled: js, userAgent: FIREFOX_ON_WINDOWS }),
    browser.newContext({ javaScriptEnabled: js }),
  ]);
  const page = await here.newPage();
  await signUpAndVerify(page, "Ada", email, js);
  for (const context of [firefox, third]) {
    await loginElsewhere(context, email);
  }
  await page.reload();
  await expectHydrated(page, js);
  return { page, here, firefox, third };
}

for (const js of [true, false]) {
  test(`see every device, sign one out, then all others (${js ? "with" : "without"} JavaScript)`, async ({
    browser,
  }) => {
    const { page, here, firefox, third } = await adaOnThreeDevices(
      browser,
      uniqueEmail(js ? "devices-js" : "devices-nojs"),
      js,
    );
    const list = page.getByRole("region", { name: "All sessions" });
    await expect(list.getByRole("listitem")).toHaveCount(3);
    await expect(list.getByRole("listitem").filter({ hasText: "This device" })).toHaveCount(1);
    await expect(list.getByRole("listitem").filter({ hasText: "Firefox on Windows" })).toHaveCount(1);
    await expect(list.locator("time[title]").first()).toHaveAttribute("title", /UTC$/);

    // Hydrated, the row goes away without loading a new document: a marker on window survives.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    await list.getByRole("button", { name: /^Sign out Firefox on Windows/ }).click();
    await expect(list.getByRole("listitem")).toHaveCount(2);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(js ? 7 : undefined);
    await expect(list.getByText("Firefox on Windows")).toHaveCount(0);
    // Hydrated, the focus was in the row that went away: it moves to the list's heading, not to <body>.
    if (js) await expect(list.getByRole("heading", { name: "All sessions" })).toBeFocused();

    // The signed-out browser's tab: hydrated, it leaves for the login page by itself (live sign-out);
    // without JavaScript, it finds out at its next action on the page it still shows.
    const firefoxPage = firefox.pages()[0];
    if (!js) {
      await changePassword(firefoxPage.getByRole("region", { name: "Change password" }), PASSWORD, "a new long passphrase");
    }
    await expect(firefoxPage).toHaveURL(/\/login\?notice=session_ended$/);
    await expect(firefoxPage.getByText("Your session has ended.")).toBeVisible();

    const ask = list.getByRole("button", { name: "Sign out of all other sessions (1)" });
    await ask.click();
    await expect(list.getByText("Are you sure?")).toBeVisible();
    // "Cancel" gives the focus back to the button that asked.
    await list.getByRole("link", { name: "Cancel" }).click();
    await expect(list.getByText("Are you sure?")).toHaveCount(0);
    if (js) await expect(ask).toBeFocused();
    await ask.click();
    await list.getByRole("button", { name: "Yes, sign out 1 other session" }).click();
    await expect(list.getByText("This is your only session.")).toBeVisible();
    await expect(list.getByRole("listitem")).toHaveCount(1);
    if (js) await expect(list.getByRole("heading", { name: "All sessions" })).toBeFocused();

    const thirdPage = third.pages()[0];
    if (!js) await thirdPage.goto("/profile");
    await expect(thirdPage).toHaveURL(/\/login\?notice=session_ended$/);
    await page.reload();
    await expect(page.getByRole("heading", { name: "Hello, Ada" })).toBeVisible();

    await Promise.all([here.close(), firefox.close(), third.close()]);
  });
}

test("with JavaScript, devices signed out one after the other, without waiting, all go", async ({ browser }) => {
  const { page, here, firefox, third } = await adaOnThreeDevices(browser, uniqueEmail("two-at-once"), true);
  const list = page.getByRole("region", { name: "All sessions" });
  await expect(list.getByRole("listitem")).toHaveCount(3);
  // Both rows' buttons pressed in one go: the second press comes while the first device is still being
  // signed out, and counts all the same.
  await list.evaluate((section) => {
    for (const button of section.querySelectorAll<HTMLButtonElement>(".session-end button")) button.click();
  });
  await expect(list.getByText("This is your only session.")).toBeVisible();
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await Promise.all([here.close(), firefox.close(), third.close()]);
});

test("with JavaScript, changing the password takes the other devices off the list at once", async ({ browser }) => {
  const email = uniqueEmail("pw-devices");
  const newPassword = "another long passphrase";
  const [here, firefox] = await Promise.all([
    browser.newContext(),
    browser.newContext({ userAgent: FIREFOX_ON_WINDOWS }),
  ]);
  const page = await here.newPage();
  await signUpAndVerify(page, "Ada", email, true);
  const firefoxPage = await loginElsewhere(firefox, email);

  await page.reload();
  await expectHydrated(page, true);
  const list = page.getByRole("region", { name: "All sessions" });
  await expect(list.getByRole("listitem")).toHaveCount(2);
  // The list reloads in the page: a marker on window survives only if the document is not reloaded.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 9));
  const form = page.getByRole("region", { name: "Change password" });
  await form.getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await form.getByLabel("New password", { exact: true }).fill(newPassword);
  await form.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
  // Pressed as Safari presses a button with the mouse: the button does not take the focus, and here the
  // focus is left on <body>.
  await form.getByRole("button", { name: "Change password" }).evaluate((button: HTMLButtonElement) => {
    button.click();
    (document.activeElement as HTMLElement | null)?.blur();
  });
  await expect(page.getByText("Your password was changed.")).toBeVisible();
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await expect(list.getByText("Firefox on Windows")).toHaveCount(0);
  await expect(list.getByText("This is your only session.")).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(9);
  // The list reloaded for a change made elsewhere on the page: it does not pull the focus (and the
  // page's scroll) to itself.
  await page.waitForTimeout(200);
  await expect(list.getByRole("heading", { name: "All sessions" })).not.toBeFocused();

  // Firefox's tab left by itself.
  await expect(firefoxPage).toHaveURL(/\/login\?notice=session_ended$/);
  await Promise.all([here.close(), firefox.close()]);
});
