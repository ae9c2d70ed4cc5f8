// The profile's avatar and name, hydrated and with JavaScript off.
import { expect, type Page, test } from "@playwright/test";
import { expectHydrated, saveName, signUpAndVerify } from "./actions";
import { png } from "./images";
import { uniqueEmail } from "./outbox";

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("upload an avatar that stays after a reload, and see a refused file explained", async ({ page }) => {
      await signUpAndVerify(page, "Ada Lovelace", uniqueEmail(js ? "avatar-js" : "avatar-nojs"), js);
      const avatar = page.getByRole("img", { name: "Ada Lovelace" });
      await expect(avatar).toHaveAttribute("src", /^data:image\/svg\+xml,/);

      const input = page.getByLabel("Change avatar");
      await input.setInputFiles({ name: "me.png", mimeType: "image/png", buffer: png(320, 200) });
      if (!js) {
        await page.getByRole("button", { name: "Upload" }).click();
      }
      await expect(avatar).toHaveAttribute("src", /^\/avatars\/[0-9a-f]{32}\.jpg$/);
      const src = await avatar.getAttribute("src");
      await page.reload();
      await expect(page.getByRole("img", { name: "Ada Lovelace" })).toHaveAttribute("src", src!);
      // The picker works in the browser only once its island (a lazily loaded piece) has hydrated.
      await expectHydrated(page, js);

      await page.getByLabel("Change avatar").setInputFiles({
        name: "page.png",
        mimeType: "image/png",
        buffer: Buffer.from("<html><body>not a picture</body></html>"),
      });
      if (!js) {
        await page.getByRole("button", { name: "Upload" }).click();
      }
      await expect(page.getByRole("alert")).toContainText("not a picture we can use");
      await expect(page.getByRole("img", { name: "Ada Lovelace" })).toHaveAttribute("src", src!);
    });

    test("change the name with Enter, and see a refused name explained", async ({ page }) => {
      await signUpAndVerify(page, "Ada", uniqueEmail(js ? "name-js" : "name-nojs"), js);
      await page.getByRole("button", { name: "Change name" }).click();
      const name = page.getByLabel("Name", { exact: true });
      if (js) {
        await expect(name).toBeFocused();
      }
      await name.fill("   ");
      await name.press("Enter");
      await expect(page.getByText("Enter your name.")).toBeVisible();
      await expect(page.getByLabel("Name", { exact: true })).toHaveAttribute("aria-invalid", "true");

      await saveName(page, "Augusta Ada King");
      await expect(page.getByRole("heading", { name: "Hello, Augusta Ada King" })).toBeVisible();
      await page.reload();
      await expect(page.getByRole("heading", { name: "Hello, Augusta Ada King" })).toBeVisible();
      await expect(page.getByRole("img", { name: "Augusta Ada King" })).toBeVisible();
    });
  });
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a picture over the size limit is refused with a message on the profile", async ({ page }) => {
    await signUpAndVerify(page, "Ada Lovelace", uniqueEmail("avatar-too-large"), false);
    // 6 MB, over the 5 MB limit: refused from its declared length, before it is read.
    await page.getByLabel("Change avatar").setInputFiles({
      name: "huge.png",
      mimeType: "image/png",
      buffer: Buffer.alloc(6 * 1024 * 1024, 7),
    });
    await page.getByRole("button", { name: "Upload" }).click();
    await expect(page).toHaveURL(/\/profile\?avatar_error=too_large$/);
    await expect(page.getByRole("alert")).toContainText("That file is too large.");
    await expect(page.getByRole("img", { name: "Ada Lovelace" })).toHaveAttribute("src", /^data:image\/svg\+xml,/);
  });
});

test("markup in a name stays text after hydration", async ({ page }) => {
  await signUpAndVerify(page, "Plain", uniqueEmail("markup"), true);
  let dialogs = 0;
  page.on("dialog", (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.getByRole("button", { name: "Change name" }).click();
  await saveName(page, '<img src=x onerror="alert(1)">');
  await expect(page.getByRole("heading", { name: 'Hello, <img src=x onerror="alert(1)">' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: 'Hello, <img src=x onerror="alert(1)">' })).toBeVisible();
  expect(dialogs).toBe(0);
  await expect(page.locator("h1 img")).toHaveCount(0);
});

test("Escape cancels the name editor and gives focus back to its button", async ({ page }) => {
  await signUpAndVerify(page, "Grace", uniqueEmail("escape"), true);
  await page.getByRole("button", { name: "Change name" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Someone else");
  // While the greeting is an input, the page keeps its top-level heading.
  await expect(page.getByRole("heading", { level: 1, name: "Hello, Grace" })).toHaveCount(1);
  await page.getByLabel("Name", { exact: true }).press("Escape");
  await expect(page.getByRole("heading", { name: "Hello, Grace" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Change name" })).toBeFocused();
});

test("a large upload shows its progress, then Processing…", async ({ page }) => {
  await signUpAndVerify(page, "Progress", uniqueEmail("progress"), true);
  // A slow uplink, so the upload takes a few seconds.
  await slowUplink(page, 1024 * 1024);
  // Every state the status area goes through, however briefly.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    const status = document.querySelector(".avatar-status")!;
    new MutationObserver(() => seen.push(status.textContent ?? "")).observe(status, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
  await page.getByLabel("Change avatar").setInputFiles({ name: "big.png", mimeType: "image/png", buffer: png(1100, 1100, true) });
  await expect(page.getByRole("progressbar")).toBeVisible();
  await expect(page.getByText(/Uploading… \d+%/)).toBeVisible();
  await expect(page.getByRole("img", { name: "Progress" })).toHaveAttribute("src", /^\/avatars\//, { timeout: 20_000 });
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen.some((s) => /Uploading… [1-9]\d?%/.test(s))).toBe(true);
  expect(seen).toContain("Processing…");
});

test("a picture chosen while another is uploading replaces it", async ({ page }) => {
  await signUpAndVerify(page, "Twice", uniqueEmail("replace-upload"), true);
  await slowUplink(page, 512 * 1024);
  const finished: string[] = [];
  page.on("requestfinished", (r) => r.url().endsWith("/api/avatar") && finished.push("finished"));
  page.on("requestfailed", (r) => r.url().endsWith("/api/avatar") && finished.push("aborted"));
  const input = page.getByLabel("Change avatar");
  await input.setInputFiles({ name: "big.png", mimeType: "image/png", buffer: png(1100, 1100, true) });
  await expect(page.getByText(/Uploading… \d+%/)).toBeVisible();
  await input.setInputFiles({ name: "small.png", mimeType: "image/png", buffer: png(64, 64) });
  const avatar = page.getByRole("img", { name: "Twice" });
  await expect(avatar).toHaveAttribute("src", /^\/avatars\//, { timeout: 20_000 });
  await expect(page.locator(".avatar-status")).toHaveText("");
  // The first upload was abandoned, not left to finish later and put its picture back.
  expect(finished.sort()).toEqual(["aborted", "finished"]);
  const shown = await avatar.getAttribute("src");
  await page.reload();
  await expect(avatar).toHaveAttribute("src", shown!);
});

test("a picture refused as too large while another is uploading stops that upload", async ({ page }) => {
  await signUpAndVerify(page, "Refused", uniqueEmail("refuse-while-uploading"), true);
  await slowUplink(page, 512 * 1024);
  const aborted = page.waitForEvent("requestfailed", (r) => r.url().endsWith("/api/avatar"));
  const input = page.getByLabel("Change avatar");
  await input.setInputFiles({ name: "big.png", mimeType: "image/png", buffer: png(1100, 1100, true) });
  await expect(page.getByText(/Uploading… \d+%/)).toBeVisible();
  // 6 MB, over the 5 MB limit: refused in the browser, and the earlier choice is abandoned with it.
  await input.setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(6 * 1024 * 1024, 7) });
  await aborted;
  await expect(page.getByRole("alert")).toContainText("That file is too large.");
  await expect(page.getByRole("progressbar")).toHaveCount(0);
  const avatar = page.getByRole("img", { name: "Refused" });
  await expect(avatar).toHaveAttribute("src", /^data:image\/svg\+xml,/);
  await page.reload();
  await expect(avatar).toHaveAttribute("src", /^data:image\/svg\+xml,/);
});

/** Uploads from `page` go at `bytesPerSecond` (Chromium's network emulation), downloads at full speed. */
async function slowUplink(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}
