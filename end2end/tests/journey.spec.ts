// The whole foundation journey in a real browser: once hydrated, once with JavaScript off.
import { expect, test } from "@playwright/test";
import { expectHydrated, login, PASSWORD, register } from "./actions";
import { latestLinkTo, uniqueEmail } from "./outbox";

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("register, verify by email, see the profile, log out, log in", async ({ page }) => {
      const email = uniqueEmail(js ? "ada-js" : "ada-nojs");

      await page.goto("/");
      await expectHydrated(page, js);
      await expect(page.getByRole("link", { name: "Login With Magic Link" })).toBeVisible();
      await expect(page.getByRole("link", { name: "Login", exact: true })).toBeVisible();
      await page.getByRole("link", { name: "Register" }).click();

      await expect(page).toHaveURL(/\/register$/);
      await expectHydrated(page, js);
      await register(page, "Ada Lovelace", email);
      await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();

      // The link from the mail: with JavaScript the page confirms by itself; without, one click.
      await page.goto(await latestLinkTo(email));
      if (!js) {
        await page.getByRole("button", { name: "Continue" }).click();
      }
      await expect(page).toHaveURL(/\/profile$/);
      await expect(page.getByRole("heading", { name: "Hello, Ada Lovelace" })).toBeVisible();

      // Signed-in users are sent from guest pages to the profile.
      await page.goto("/login");
      await expect(page).toHaveURL(/\/profile$/);
      await expectHydrated(page, js);

      await page.getByRole("button", { name: "Logout" }).click();
      await expect(page).toHaveURL(/\/login\?notice=signed_out$/);
      await expect(page.getByText("You have been logged out.")).toBeVisible();

      // Guests cannot see the profile.
      await page.goto("/profile");
      await expect(page).toHaveURL(/\/login$/);

      await login(page, email, "not the password");
      await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");

      await login(page, email, PASSWORD);
      await expect(page).toHaveURL(/\/profile$/);
      await expect(page.getByRole("heading", { name: "Hello, Ada Lovelace" })).toBeVisible();
    });

    test("an unverified account is told to verify and can get a new link", async ({ page }) => {
      const email = uniqueEmail(js ? "unverified-js" : "unverified-nojs");
      await page.goto("/register");
      await register(page, "Grace", email);
      await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();
      const firstLink = await latestLinkTo(email);

      await page.goto("/login");
      await login(page, email, PASSWORD);
      await expect(page.getByRole("alert")).toContainText("Please verify your email address first");

      await page.getByRole("link", { name: "Send me a new verification link" }).click();
      await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();
      // The login page remembers the address, so there is nothing to type again.
      const resend = page.locator("form").filter({ has: page.getByRole("button", { name: "Resend verification email" }) });
      await expect(resend.locator('input[type="hidden"][name="email"]')).toHaveValue(email);
      await page.getByRole("button", { name: "Resend verification email" }).click();
      await expect(page.getByText("a new link is on its way")).toBeVisible();
      await expect.poll(() => latestLinkTo(email)).not.toBe(firstLink);

      await page.goto(await latestLinkTo(email));
      if (!js) {
        await page.getByRole("button", { name: "Continue" }).click();
      }
      await expect(page.getByRole("heading", { name: "Hello, Grace" })).toBeVisible();
    });

    test("a refused registration explains itself next to the field", async ({ page }) => {
      await page.goto("/register");
      await expectHydrated(page, js);
      await register(page, "Ada", uniqueEmail("short"), "too short");
      const password = page.getByLabel("Password", { exact: true });
      await expect(password).toHaveAttribute("aria-invalid", "true");
      await expect(page.locator("#field-password-error")).toContainText("Use at least 12 characters");
    });
  });
}

test("with JavaScript, a weak password is explained while it is typed", async ({ page }) => {
  await page.goto("/register");
  await expectHydrated(page, true);
  await page.getByLabel("Name", { exact: true }).fill("Ada Lovelace");
  await page.getByLabel("Password", { exact: true }).pressSequentially("password1234");
  await expect(page.getByText(/too easy to guess/)).toBeVisible();
  await page.getByLabel("Password", { exact: true }).fill("");
  await page.getByLabel("Password", { exact: true }).pressSequentially("adalovelace12");
  await expect(page.getByText(/mostly your name or email address/)).toBeVisible();
  await page.getByLabel("Password", { exact: true }).pressSequentially(" and the tide tables");
  await expect(page.getByText("Strong enough.")).toBeVisible();
});

test("with JavaScript, a refused sign-in is explained without loading a new page", async ({ page }) => {
  const email = uniqueEmail("no-reload");
  await page.goto("/register");
  await expectHydrated(page, true);
  await register(page, "Spa", email);
  await expect(page.getByRole("heading", { name: "Check your email…" })).toBeVisible();
  await page.goto(await latestLinkTo(email));
  await expect(page).toHaveURL(/\/profile$/);
  await expectHydrated(page, true);
  await page.getByRole("button", { name: "Logout" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expectHydrated(page, true);

  // A marker on window survives only if the document is not reloaded.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await login(page, email, "not the password");
  await expect(page.getByRole("alert")).toContainText("Incorrect email or password");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  await expect(page.getByLabel("Email", { exact: true })).toHaveValue(email);
  // The button pressed keeps the keyboard focus (a disabled button would have dropped it to <body>).
  const button = page.getByRole("button", { name: "Login" });
  await expect(button).toBeFocused();

  // Pressed twice at once, the form is sent once: the second press finds the first pending.
  let posts = 0;
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/login") posts += 1;
  });
  const answered = page.waitForResponse((response) => new URL(response.url()).pathname === "/api/login");
  await button.evaluate((b: HTMLButtonElement) => {
    b.click();
    b.click();
  });
  await answered;
  await expect(button).not.toHaveAttribute("aria-busy", "true");
  expect(posts).toBe(1);

  await login(page, email, PASSWORD);
  await expect(page.getByRole("heading", { name: "Hello, Spa" })).toBeVisible();
});

test("a first visit downloads the code of the page it opens, not of every page", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/pkg/")) fetched.push(path);
  });
  await page.goto("/login");
  await expectHydrated(page, true);
  await expect(page.getByRole("button", { name: "Login" })).toBeEnabled();
  // Pages are server-rendered HTML with islands of WASM. The login form and its passkey button are part of
  // the main WASM file (most first visits open them); every other island is a piece of its own
  // (`#[island(lazy)]`), fetched by the pages that show it.
  expect(fetched.filter((path) => path.includes("/split_"))).toEqual([]);
  // Nor the other islands' text: the WASM splitter once put every island's data back into the main file
  // (wasm_split_cli_support 0.2.3; scripts/setup.sh says more).
  const main = Buffer.from(await (await page.request.get("/pkg/authkit.wasm")).body()).toString("latin1");
  expect(main).toContain("Sign in with a passkey");
  expect(main).not.toContain("Change password");

  // Following a link loads the next page; its marker is checked once the new page is there.
  await page.getByRole("link", { name: "Register" }).first().click();
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
  await expectHydrated(page, true);
  expect(fetched.filter((path) => path.includes("/split_"))).toEqual([expect.stringContaining("/split_register_form_loader_")]);
  expect(fetched.some((path) => path.includes("profile_header") || path.includes("account_panels"))).toBe(false);
});
