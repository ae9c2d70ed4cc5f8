// Passkeys in a real browser, with Chromium's virtual authenticator (a platform authenticator with
// discoverable credentials and user verification, as a phone or a laptop's fingerprint reader is).
import { expect, test, type Page } from "@playwright/test";
import { expectHydrated, PASSWORD, signUpAndVerify } from "./actions";
import { uniqueEmail } from "./outbox";

async function withVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

test("add a passkey on the profile, then sign in with it alone", async ({ page }) => {
  const { cdp, authenticatorId } = await withVirtualAuthenticator(page);
  const email = uniqueEmail("passkey");
  await signUpAndVerify(page, "Pass Key", email, true);
  const passkeys = page.getByRole("region", { name: "Passkeys" });
  await passkeys.getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await passkeys.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.locator(".passkey-name")).toHaveCount(1);
  await expect(page.getByText("Not used yet")).toBeVisible();
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // Renamed.
  await page.getByText("Rename…").click();
  await page.getByLabel("Name", { exact: true }).last().fill("My test key");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.locator(".passkey-name")).toHaveText("My test key");
  // For the README's tour.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator("#sign-in-methods").screenshot({ path: "screenshots/sign-in-methods-passkey-desktop-light.png" });

  // The login page offers the passkey in the Email field's autofill (conditional mediation), which the
  // virtual authenticator answers at once, as a user picking it there would.
  await page.getByRole("button", { name: "Logout" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole("heading", { name: "Hello, Pass Key" })).toBeVisible();
  await expect(page.getByText(/Last used/)).toBeVisible();

  // "Sign in with a passkey", in a browser without the autofill (as Firefox on Linux, say).
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.getByRole("button", { name: "Logout" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Email", { exact: true })).toHaveAttribute("autocomplete", "username webauthn");
  await expectHydrated(page, true);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole("heading", { name: "Hello, Pass Key" })).toBeVisible();

  // Removed (after the password), it signs in no more.
  await page.getByText("Remove…").click();
  await page.locator(".passkey").getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Remove", exact: true }).click();
  await expect(page.locator(".passkey-name")).toHaveCount(0);
  await page.getByRole("button", { name: "Logout" }).click();
  await expectHydrated(page, true);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("That passkey did not work here");
  await expect(page).toHaveURL(/\/login/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("the passkey button says it needs JavaScript, and the password still works", async ({ page }) => {
    await page.goto("/login");
    await expect(page.getByText("Signing in with a passkey needs JavaScript.")).toBeVisible();
    await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeDisabled();
    await expect(page.getByRole("button", { name: "Login" })).toBeVisible();
  });
});
