// What a user does again and again in these tests.
import { expect, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { latestLinkTo } from "./outbox";

export const PASSWORD = "correct horse battery staple";

export async function register(page: Page, name: string, email: string, password = PASSWORD) {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

export async function login(page: Page, email: string, password: string) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Login" }).click();
}

/** Signs in from another browser (a context of its own); returns that browser's page, on the profile. */
export async function loginElsewhere(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto("/login");
  await login(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  return page;
}

/** Fills and submits the profile's "Change password" form (`form`: that region of the page). */
export async function changePassword(form: Locator, current: string, next: string) {
  await form.getByLabel("Current password", { exact: true }).fill(current);
  await form.getByLabel("New password", { exact: true }).fill(next);
  await form.getByLabel("Confirm new password", { exact: true }).fill(next);
  await form.getByRole("button", { name: "Change password" }).click();
}

export async function expectHydrated(page: Page, js: boolean) {
  if (js) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  } else {
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  }
}

/**
 * Types a name into the open name editor and saves it with Enter, returning once the server has answered.
 * The page shows the new name at once, before the server has it: a reload sooner can cancel the save.
 */
export async function saveName(page: Page, name: string) {
  const saved = page.waitForResponse((res) => new URL(res.url()).pathname === "/api/update_name");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Name", { exact: true }).press("Enter");
  await saved;
}

/** Registers and opens the verification link: the page ends on the profile. */
export async function signUpAndVerify(page: Page, name: string, email: string, js: boolean) {
  await page.goto("/register");
  await register(page, name, email);
  await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();
  await page.goto(await latestLinkTo(email));
  if (!js) {
    await page.getByRole("button", { name: "Continue" }).click();
  }
  await expect(page.getByRole("heading", { name: `Hello, ${name}` })).toBeVisible();
  await expectHydrated(page, js);
}
