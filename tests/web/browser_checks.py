"""Checks of a page in the real browser: labels, keyboard reach and colour contrast (WCAG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: WCAG 2.x AA for body text.
MIN_CONTRAST = 4.5

#: The text a page is read by: its headings, body text, tables, forms, badges and header.
TEXT_SELECTORS = [
    "h1", "h2", "main p", "main a", "label", "th", "td", "dt", "dd", "button",
    ".badge", ".muted", "pre", "code", "kbd", "header.top a", "header.top span",
]  # fmt: skip

_CONTRAST = """
(selectors) => {
  const rgba = (s) => {
    const m = s.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const out = [];
  for (const selector of selectors) {
    for (const el of Array.from(document.querySelectorAll(selector)).slice(0, 40)) {
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height || box.right < 0 || !el.textContent.trim()) continue;
      const [a, b] = [luminance(rgba(getComputedStyle(el).color)), luminance(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      out.push({ selector, text: el.textContent.trim().slice(0, 40), ratio });
    }
  }
  return out;
}
"""

_UNLABELLED = """
() => Array.from(document.querySelectorAll("input, select, textarea, button"))
  .filter((el) => el.type !== "hidden")
  .filter((el) => {
    const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    const text = el.tagName === "BUTTON" ? el.textContent.trim() : "";
    return !(named || text || (el.labels && el.labels.length));
  })
  .map((el) => el.outerHTML.slice(0, 120))
"""

_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  return (el.getAttribute("aria-label") || el.textContent || el.name || el.id || el.tagName).trim();
}
"""


async def check_page(page: Any, name: str, artifacts: Path) -> list[dict[str, Any]]:
    """Screenshot the page, then assert every control is labelled and the text is legible.

    Returns the contrast measurements (each text element's ratio), for the test to read.
    """
    await page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    unlabelled = await page.evaluate(_UNLABELLED)
    assert unlabelled == [], f"{name}: controls without a label: {unlabelled}"
    measured: list[dict[str, Any]] = await page.evaluate(_CONTRAST, TEXT_SELECTORS)
    assert len(measured) >= 5, f"{name}: too little text measured: {measured}"
    poor = [m for m in measured if m["ratio"] < MIN_CONTRAST]
    assert poor == [], f"{name}: contrast below {MIN_CONTRAST}:1: {poor}"
    return measured


async def tab_reaches(page: Any, wanted: str, presses: int = 60) -> list[str]:
    """Tab from the top of a freshly loaded page until an element named ``wanted`` has focus.

    Returns the names focused on the way; fails if ``wanted`` is never reached.
    """
    seen: list[str] = []
    for _ in range(presses):
        await page.keyboard.press("Tab")
        focused = str(await page.evaluate(_FOCUSED))
        seen.append(focused)
        if focused == wanted:
            return seen
    raise AssertionError(f"Tab never reached {wanted!r}; it went through {seen}")
