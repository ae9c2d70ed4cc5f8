// Reads the mail the server wrote to its outbox folder ($APP_DATA_DIR/mail), as a user reads their inbox.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const outbox = resolve(process.env.APP_DATA_DIR ?? "../data", "mail");

type Mail = { to: string; subject: string; text: string; mtime: number };

function decode(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return Buffer.from(
        body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))),
        "latin1",
      ).toString("utf8");
    default:
      return body;
  }
}

function header(block: string, name: string): string {
  const m = block.match(new RegExp(`^${name}:\\s*((?:.*)(?:\\r?\\n[ \\t].*)*)`, "im"));
  return m ? m[1].replace(/\r?\n[ \t]+/g, " ").trim() : "";
}

function parse(raw: string, mtime: number): Mail {
  const [head] = raw.split(/\r?\n\r?\n/, 1);
  const boundary = header(head, "Content-Type").match(/boundary="?([^";]+)"?/)?.[1];
  let text = "";
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  for (const part of parts) {
    const split = part.search(/\r?\n\r?\n/);
    if (split < 0) continue;
    const partHead = part.slice(0, split);
    if (!/text\/plain/i.test(header(partHead, "Content-Type"))) continue;
    text = decode(part.slice(split).trim(), header(partHead, "Content-Transfer-Encoding") || "7bit");
  }
  return { to: header(head, "To"), subject: header(head, "Subject"), text, mtime };
}

export function mails(): Mail[] {
  let files: string[] = [];
  try {
    files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
  } catch {
    return [];
  }
  return files
    .map((f) => {
      const path = join(outbox, f);
      return parse(readFileSync(path, "utf8"), statSync(path).mtimeMs);
    })
    .sort((a, b) => a.mtime - b.mtime);
}

/** The link in the newest mail to `address` (waiting a little for it to arrive). */
export async function latestLinkTo(address: string, subject?: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const mail = mails()
      .filter((m) => m.to.includes(address) && (!subject || m.subject === subject))
      .pop();
    const link = mail?.text.match(/https?:\/\/\S+/)?.[0];
    if (link) return link;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail with a link to ${address} in ${outbox}`);
}

/** The 6-digit code in the newest mail to `address` about `subject` (waiting a little for it to arrive). */
export async function latestCodeTo(address: string, subject: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const mail = mails()
      .filter((m) => m.to.includes(address) && m.subject === subject)
      .pop();
    const code = mail?.text.match(/Or type this code[^\n]*: (\d{6})/)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail with a code to ${address} in ${outbox}`);
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}
