// Live sign-out: a tab whose session was ended elsewhere leaves for the login page by itself, and the
// account's other tabs see the session list change, without a click or a reload.
import { expect, test } from "@playwright/test";
import { expectHydrated, loginElsewhere, signUpAndVerify } from "./actions";
import { uniqueEmail } from "./outbox";

const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

test("a tab signed out from another device leaves by itself, and the list follows along", async ({ page, browser }) => {
  const email = uniqueEmail("live");
  await signUpAndVerify(page, "Ada", email, true);
  const list = page.getByRole("region", { name: "All sessions" });
  await expect(list.getByRole("listitem")).toHaveCount(1);

  // A new sign-in elsewhere shows up here without a reload.
  const firefox = await browser.newContext({ userAgent: FIREFOX_ON_WINDOWS });
  const theirs = await loginElsewhere(firefox, email);
  await expectHydrated(theirs, true);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  await expect(list.getByRole("listitem")).toHaveCount(2, { timeout: 5_000 });

  // Its own security activity page leaves too, not only the profile.
  const activity = await firefox.newPage();
  await activity.goto("/profile/activity");
  await expectHydrated(activity, true);

  // Signed out from here, both of Firefox's tabs go to the login page on their own.
  await list.getByRole("button", { name: /^Sign out Firefox on Windows/ }).click();
  await expect(theirs).toHaveURL(/\/login\?notice=session_ended$/, { timeout: 5_000 });
  await expect(theirs.getByText("Your session has ended.")).toBeVisible();
  await expect(activity).toHaveURL(/\/login\?notice=session_ended$/, { timeout: 5_000 });
  await expect(list.getByRole("listitem")).toHaveCount(1);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
  await firefox.close();
});
