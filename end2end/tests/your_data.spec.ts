// "Your data" on the profile: download everything, delete the account, cancel from the mail, delete again;
// hydrated and with JavaScript off.
import { execFileSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { login, PASSWORD, signUpAndVerify } from "./actions";
import { latestLinkTo, mails, uniqueEmail } from "./outbox";

/** What Python's zipfile (another implementation than the server's) reads in the ZIP at `path`. */
function readZip(path: string): { names: string[]; account: any } {
  const script = [
    "import json, sys, zipfile",
    "z = zipfile.ZipFile(sys.argv[1])",
    "assert z.testzip() is None, 'a damaged entry'",
    "print(json.dumps({'names': sorted(z.namelist()), 'account': json.loads(z.read('account.json'))}))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", script, path]).toString());
}

async function deleteAccount(page: Page, password: string) {
  const yourData = page.getByRole("region", { name: "Your data" });
  await yourData.getByLabel("Current password", { exact: true }).fill(password);
  await yourData.getByRole("button", { name: "Delete account" }).click();
}

for (const js of [true, false]) {
  const how = js ? "with" : "without";

  test(`download your data, delete the account, cancel, delete again (${how} JavaScript)`, async ({ browser }) => {
    const page = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
    const email = uniqueEmail(`your-data-${js}`);
    await signUpAndVerify(page, "Ada", email, js);

    await page.getByRole("navigation", { name: "Profile sections" }).getByRole("link", { name: "Your data" }).click();
    await expect(page).toHaveURL(/\/profile#your-data$/);
    await page.getByRole("link", { name: "Download your data" }).click();
    await expect(page).toHaveURL(/\/profile\/export$/);
    await page.getByLabel("Current password", { exact: true }).fill("not her password");
    await page.getByRole("button", { name: "Download" }).click();
    await expect(page.getByRole("alert")).toContainText("That is not your current password.");
    await page.getByLabel("Current password", { exact: true }).fill(PASSWORD);
    const downloading = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^authkit-data-\d{4}-\d{2}-\d{2}\.zip$/);
    const zip = readZip(await download.path());
    expect(zip.names).toEqual(["account.json"]);
    expect(zip.account.profile.email).toBe(email);
    expect(zip.account.profile.name).toBe("Ada");
    expect(zip.account.security_activity[0].description).toBe("Data downloaded");

    // Deleting takes the password again too: a wrong one is refused and changes nothing.
    await page.goto("/profile#your-data");
    await deleteAccount(page, "not her password");
    await expect(page.getByRole("region", { name: "Your data" }).getByRole("alert")).toContainText(
      "That is not your current password.",
    );
    await page.goto("/profile");
    await expect(page.getByRole("heading", { name: "Hello, Ada" })).toBeVisible();

    await deleteAccount(page, PASSWORD);
    await expect(page).toHaveURL(/\/login\?notice=account_deleted$/);
    await expect(page.getByText("Your account is deleted and signed out everywhere.")).toBeVisible();
    const mailed = mails().filter((m) => m.to.includes(email) && m.subject === "Your account will be deleted");
    expect(mailed).toHaveLength(1);
    expect(mailed[0].text).toMatch(/On \d+ \w+ \d{4}, \d\d:\d\d UTC it will be erased/);
    const deletionMails = () =>
      mails().filter((m) => m.to.includes(email) && m.subject === "Your account will be deleted").length;
    // A right password is told why, and mails a new link to cancel (the first mail might be lost).
    await login(page, email, PASSWORD);
    await expect(page.getByRole("alert")).toContainText("This account is being deleted.");
    await expect.poll(deletionMails).toBe(2);

    await page.goto(await latestLinkTo(email, "Your account will be deleted"));
    await expect(page.getByRole("heading", { name: "Keep your account" })).toBeVisible();
    await page.getByRole("button", { name: "Cancel deletion" }).click();
    await expect(page).toHaveURL(/\/login\?notice=deletion_cancelled$/);
    await expect(page.getByText("Your account is kept, as it was.")).toBeVisible();
    await login(page, email, PASSWORD);
    await expect(page).toHaveURL(/\/profile$/);

    // Deleted again: a new mail and a new link; the first one died when the second was sent.
    await deleteAccount(page, PASSWORD);
    await expect(page).toHaveURL(/\/login\?notice=account_deleted$/);
    await expect.poll(deletionMails).toBe(3);
    await page.goto(mailed[0].text.match(/https?:\/\/\S+/)![0]);
    await expect(page.getByRole("alert")).toContainText("This link is invalid, was already used, or has expired");
  });
}
