// Accessibility and appearance: an axe-core scan of every page in both colour schemes, a keyboard-only
// journey, and screenshots of each page at phone and desktop widths (saved under end2end/screenshots/).
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { expectHydrated, loginElsewhere, PASSWORD, signUpAndVerify } from "./actions";
import { latestLinkTo, uniqueEmail } from "./outbox";
import { totp } from "./totp";

const SHOTS = "screenshots";
mkdirSync(SHOTS, { recursive: true });

const GUEST_PAGES: [string, string][] = [
  ["home", "/"],
  ["register", "/register"],
  ["login", "/login"],
  ["magic-link", "/login-with-magic-link"],
  ["forgot-password", "/forgot-password"],
  ["check-email", "/check-email?email=ada%40example.com&purpose=verify"],
  ["reset-password-expired", "/reset-password?token=expired"],
  ["auth-redirect-invalid", "/auth-redirect?access_token=invalid"],
  ["login-two-factor", "/login/two-factor"],
  ["secure-account-expired", "/secure-account?token=expired"],
  ["cancel-deletion-expired", "/cancel-deletion?token=expired"],
  ["not-found", "/no-such-page"],
];

async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    what,
  ).toEqual([]);
}

async function shoot(page: Page, name: string, scheme: string) {
  for (const [label, width, height] of [
    ["phone", 320, 640],
    ["desktop", 1280, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    // Nothing may stick out sideways, even on the narrowest phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width}px`).toBeLessThanOrEqual(width);
    await page.screenshot({ path: `${SHOTS}/${name}-${label}-${scheme}.png`, fullPage: true });
  }
}

// A test per page and scheme, not one for them all: each scan and screenshot pair takes about a second
// here, and a single test over every page came close to the time limit on a slower machine.
for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} theme`, () => {
    test.beforeEach(async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
    });

    for (const [name, path] of GUEST_PAGES) {
      test(`the ${name} page is accessible`, async ({ page }) => {
        await page.goto(path);
        await expectHydrated(page, true);
        await expectAccessible(page, `${path} (${scheme})`);
        await shoot(page, name, scheme);
      });
    }

    test("the login and register error states are accessible", async ({ page }) => {
      await page.goto("/login");
      await page.getByLabel("Email", { exact: true }).fill("nobody@example.com");
      await page.getByLabel("Password", { exact: true }).fill("not the password");
      await page.getByRole("button", { name: "Login" }).click();
      await expect(page.getByRole("alert")).toBeVisible();
      await expectAccessible(page, `login error (${scheme})`);
      await shoot(page, "login-error", scheme);
      await page.goto("/register");
      await page.getByLabel("Name", { exact: true }).fill("Ada");
      await page.getByLabel("Email", { exact: true }).fill("not an address");
      await page.getByRole("button", { name: "Create account" }).click();
      await expect(page.getByLabel("Email", { exact: true })).toBeFocused();
      await expectAccessible(page, `register error (${scheme})`);
      await shoot(page, "register-error", scheme);
    });

    test("the profile is accessible", async ({ page, browser }) => {
      const email = uniqueEmail(`look-${scheme}`);
      await signUpAndVerify(page, "Ada Lovelace", email, true);
      const other = await browser.newContext();
      await loginElsewhere(other, email);
      await page.reload();
      await expectHydrated(page, true);
      await expectAccessible(page, `profile (${scheme})`);
      await shoot(page, "profile", scheme);
      await page.getByRole("button", { name: "Change name" }).click();
      await expectAccessible(page, `profile, editing the name (${scheme})`);
      await page.getByRole("button", { name: /Sign out of all other sessions/ }).click();
      await expectAccessible(page, `profile, confirming sign-out (${scheme})`);
      await shoot(page, "profile-confirm", scheme);
      await other.close();
    });

    test("the security activity is accessible", async ({ page, browser }) => {
      const email = uniqueEmail(`look-activity-${scheme}`);
      await signUpAndVerify(page, "Ada Lovelace", email, true);
      const other = await browser.newContext();
      await loginElsewhere(other, email);
      await page.goto("/profile/activity");
      await expect(page.getByRole("heading", { name: "Security activity" })).toBeVisible();
      await expectAccessible(page, `security activity (${scheme})`);
      await shoot(page, "security-activity", scheme);
      await page.goto(await latestLinkTo(email, "New sign-in to your account"));
      await expectHydrated(page, true);
      await expectAccessible(page, `secure account (${scheme})`);
      await shoot(page, "secure-account", scheme);
      await other.close();
    });

    test("downloading your data, deleting the account and its cancel page are accessible", async ({ page }) => {
      const email = uniqueEmail(`look-delete-${scheme}`);
      await signUpAndVerify(page, "Ada Lovelace", email, true);
      await page.goto("/profile/export");
      await expectAccessible(page, `download your data (${scheme})`);
      await shoot(page, "download-data", scheme);
      await page.goto("/profile");
      const yourData = page.getByRole("region", { name: "Your data" });
      await yourData.getByLabel("Current password", { exact: true }).fill(PASSWORD);
      await yourData.getByRole("button", { name: "Delete account" }).click();
      await expect(page).toHaveURL(/\/login\?notice=account_deleted$/);
      await expectAccessible(page, `login after deleting (${scheme})`);
      await page.goto(await latestLinkTo(email, "Your account will be deleted"));
      await expectHydrated(page, true);
      await expectAccessible(page, `cancel deletion (${scheme})`);
      await shoot(page, "cancel-deletion", scheme);
    });

    test("the two-factor setup and recovery codes are accessible", async ({ page }) => {
      await signUpAndVerify(page, "Ada Lovelace", uniqueEmail(`look-2fa-${scheme}`), true);
      await page.goto("/profile/two-factor");
      await expectHydrated(page, true);
      await expectAccessible(page, `two-factor setup (${scheme})`);
      await shoot(page, "two-factor-setup", scheme);
      const secret = (await page.locator("#secret-key").innerText()).replace(/\s/g, "");
      await page.getByLabel("Code").fill(totp(secret));
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByRole("heading", { name: "Recovery codes" })).toBeVisible();
      await expectAccessible(page, `recovery codes (${scheme})`);
      await shoot(page, "recovery-codes", scheme);
      await page.goto("/profile#sign-in-methods");
      await expectAccessible(page, `profile with two-factor on (${scheme})`);
    });
  });
}

test("every guest page has a title of its own", async ({ request }) => {
  const titles = new Set<string>();
  for (const [, path] of GUEST_PAGES) {
    const html = await (await request.get(path)).text();
    const title = html.match(/<title>([^<]*)<\/title>/)?.[1]?.trim();
    expect(title, `the title of ${path}`).toBeTruthy();
    titles.add(title!);
  }
  expect([...titles], "a title per page").toHaveLength(GUEST_PAGES.length);
});

test("sign up, reach the profile and log out with the keyboard alone", async ({ page }) => {
  const email = uniqueEmail("keyboard");
  await page.goto("/");
  await expectHydrated(page, true);

  // Tab until the "Register" link has focus, then follow it.
  async function tabTo(name: RegExp) {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return { text: (el?.innerText || el?.getAttribute("aria-label") || el?.id || "").trim(), outline: el ? getComputedStyle(el).outlineStyle : "" };
      });
      if (name.test(focused.text)) {
        expect(focused.outline, `a visible focus ring on ${focused.text}`).not.toBe("none");
        return;
      }
    }
    throw new Error(`could not reach ${name} with Tab`);
  }
  await tabTo(/^Register$/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/register$/);
  await tabTo(/^field-name$/);
  await page.keyboard.type("Keys Only");
  await page.keyboard.press("Tab");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();

  await page.goto(await latestLinkTo(email));
  await expect(page.getByRole("heading", { name: "Hello, Keys Only" })).toBeVisible();
  await tabTo(/^Logout$/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login\?notice=signed_out$/);
});
