// Drives Microsoft 365 Agents Playground's web page in headless Chromium as a person would: types
// "registrera mig" in the personal chat's compose box, waits for the bot's registration card,
// chooses an agency, clicks the card's submit button, waits for the card to be replaced in place
// and saves a screenshot.
//
//   node tests/playground/browser_click.mjs PLAYGROUND_URL SCREENSHOT.png
//
// Settings from the environment (tests/playground/test_browser.py sets them):
//   BROWSER_MODULES      the node_modules folder holding playwright-core (.tools/browser/node_modules)
//   CHROMIUM             the Chromium executable (/usr/bin/chromium)
//   BROWSER_PROFILE      a fresh, empty user-data-dir
//   BROWSER_CHOICE       a regular expression for the agency to choose on the card, by its name
//                        (the MHF's, in Swedish or English)
//   BROWSER_TIMEOUT_MS   how long to wait for each step (20000)
// It prints one JSON line on success, and exits non-zero with the reason on stderr otherwise.

import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node browser_click.mjs PLAYGROUND_URL SCREENSHOT.png");
  process.exit(2);
}
const modules = process.env.BROWSER_MODULES;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const profile = process.env.BROWSER_PROFILE || mkdtempSync(path.join(tmpdir(), "playground-browser-"));
const choice = new RegExp(
  process.env.BROWSER_CHOICE || "Environment and Health Administration|miljö- och hälsoskyddsförvaltningen",
);
const timeout = Number(process.env.BROWSER_TIMEOUT_MS || 20000);
const SUBMIT_TITLES = ["Skicka ansökan", "Send application"];

let chromium;
try {
  const require = createRequire(path.resolve(modules || "node_modules", "..", "package.json"));
  ({ chromium } = require("playwright-core"));
} catch (error) {
  console.error(`playwright-core is not installed in ${modules}: ${error.message}`);
  process.exit(3);
}

const step = (name) => console.error(`[browser] ${name}`);

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 1400, height: 900 },
  locale: "en-US",
  timeout,
});
let failure = null;
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(timeout);
const consoleErrors = [];
page.on("pageerror", (error) => consoleErrors.push(String(error)));

try {
  step(`open ${url}`);
  await page.goto(url, { waitUntil: "domcontentloaded" });
  // The personal chat is open at start; make sure of it, then wait for the compose box.
  await page.getByRole("treeitem", { name: "Personal Chat" }).click();
  const compose = page.locator('[data-lexical-editor="true"][role="textbox"]');
  await compose.waitFor({ state: "visible" });
  // The page installs the bot when it opens; its welcome card comes first.
  const cards = page.locator(".ac-adaptiveCard");
  await cards.first().waitFor({ state: "visible" });
  const submitSelector = SUBMIT_TITLES.map((t) => `.ac-adaptiveCard .ac-actionSet button[title="${t}"]`);
  const submits = page.locator(submitSelector.join(", "));
  const before = await submits.count();

  step("type 'registrera mig'");
  await compose.click();
  await compose.pressSequentially("registrera mig");
  await page.keyboard.press("Enter");

  step("wait for the registration card");
  const button = submits.nth(before);
  await button.waitFor({ state: "visible" });
  const card = button.locator("xpath=ancestor::div[contains(@class, 'ac-adaptiveCard')][1]");
  const offered = (await card.innerText()).trim();
  const index = await card.evaluate((el) => [...document.querySelectorAll(".ac-adaptiveCard")].indexOf(el));

  step(`choose ${choice}`);
  // The playground renders a compact Input.ChoiceSet as a Fluent UI combobox whose options are
  // listed, by title, in a popup outside the card.
  await card.getByRole("combobox").first().click();
  const option = page.getByRole("option", { name: choice });
  await option.first().click();
  const agency = (await card.getByRole("combobox").first().inputValue()).trim();
  const title = (await button.getAttribute("title")) || "";

  step(`click '${title}'`);
  await button.click();

  step("wait for the card to change");
  // The bot replaces the card in place: its submit button goes and the text changes.
  await page.waitForFunction(
    ({ selector, count }) =>
      document.querySelectorAll(selector).length === count,
    { selector: submitSelector.join(", "), count: before },
    { timeout },
  );
  const updated = page.locator(".ac-adaptiveCard").nth(index);
  await updated.scrollIntoViewIfNeeded();
  const replaced = (await updated.innerText()).trim();
  if (replaced === offered) throw new Error("the card did not change");
  await page.waitForTimeout(300); // let the update finish rendering before the picture
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(JSON.stringify({ clicked: title, agency, offered, replaced }));
} catch (error) {
  failure = error;
  try {
    await page.screenshot({ path: screenshot.replace(/\.png$/, "") + "-failed.png" });
  } catch {
    // nothing more to show
  }
} finally {
  await context.close();
}
if (failure) {
  console.error(`browser: ${failure.message}`);
  if (consoleErrors.length) console.error(`page errors:\n${consoleErrors.join("\n")}`);
  process.exit(1);
}
