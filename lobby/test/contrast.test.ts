/**
 * WCAG 2.x AA: every text colour the lobby puts on a background has a contrast ratio of at least
 * 4.5:1, in the dark theme and the light one. Computed from the CSS variables in
 * lobby/public/styles.css, so a colour change that breaks it fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const css = readFileSync(new URL("../public/styles.css", import.meta.url), "utf8");

/** The custom properties of the first block after `marker` (`:root {` or the light media query). */
function variables(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{3,8})\s*;/g)) out[m[1]!] = m[2]!;
  return out;
}

const darkBlock = css.slice(css.indexOf(":root {"), css.indexOf("}", css.indexOf(":root {")));
const lightStart = css.indexOf("@media (prefers-color-scheme: light)");
const lightBlock = css.slice(lightStart, css.indexOf("}", css.indexOf(":root {", lightStart)));
const dark = variables(darkBlock);
const light = { ...dark, ...variables(lightBlock) };

function luminance(hex: string): number {
  const h = hex.replace("#", "");
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** [text, background, where]: every pairing styles.css makes. */
const PAIRS: [string, string, string][] = [
  ["text", "bg", "page text"],
  ["text", "bg-2", "chips, badges"],
  ["text", "card", "cards"],
  ["muted", "card", "secondary text on cards"],
  ["muted", "bg", "secondary text on the page"],
  ["muted", "bg-2", "tags"],
  ["accent-text", "accent", "primary buttons, avatars"],
  ["accent-text", "accent-strong", "primary buttons (hover)"],
  ["ok", "bg-2", '"You\'re seated" tag'],
  ["ok", "card", "ok text on cards"],
  ["warn", "bg-2", '"Muted" / "Deafened" tag on a board, the muted mark in a voice chip'],
  ["error", "card", "inline errors, the closing countdown"],
  ["error", "bg", "sign-in errors"],
  ["on-error", "error", '"Yes, end it"'],
  ["text", "warn-bg", 'dropout notice, reconnecting banner, "Not answering"'],
  ["text", "error-bg", "error notices, offline banner"],
  ["text", "info-bg", "info banner"],
  ["muted", "warn-bg", "Dismiss on the dropout notice"],
  ["muted", "error-bg", "Dismiss on error notices"],
  ["bg", "text", "toast, banner buttons"],
  ["link", "card", "links on cards (Open in Discord)"],
  ["link", "bg", "links on the page"],
  ["text", "mine-bg", "your messages and reaction chips in the table chat"],
  ["muted", "mine-bg", "time and 'Sending…' on your chat messages"],
  ["link", "mine-bg", "'open in Discord' on your chat messages"],
  ["error", "mine-bg", "why your chat message failed"],
  ["muted", "card", "the typing line, the disabled composer's reason"],
];

describe("colour contrast (WCAG AA, 4.5:1)", () => {
  it("reads both themes' variables", () => {
    for (const [fg, bg] of PAIRS) {
      expect(dark[fg], `--${fg} (dark)`).toMatch(/^#/);
      expect(dark[bg], `--${bg} (dark)`).toMatch(/^#/);
    }
    expect(light.bg).not.toBe(dark.bg);
  });

  for (const [theme, vars] of [
    ["dark", dark],
    ["light", light],
  ] as const) {
    it(`${theme} theme: every text colour on its background`, () => {
      const failures = PAIRS.map(([fg, bg, where]) => ({ where, fg, bg, ratio: contrast(vars[fg]!, vars[bg]!) }))
        .filter((p) => p.ratio < 4.5)
        .map((p) => `${p.where}: --${p.fg} ${vars[p.fg]} on --${p.bg} ${vars[p.bg]} is ${p.ratio.toFixed(2)}:1`);
      expect(failures).toEqual([]);
    });
  }

  it("the ratio is computed as WCAG defines it", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });
});
