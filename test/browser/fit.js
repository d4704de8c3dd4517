// Whether a view fits its window, measured element by element (not only the page's width): no
// table cell, card or control whose content is wider than its box (scrollWidth > clientWidth: cut
// off or scrolled away), and every control's box inside the window's width, where a finger or a
// pointer can reach it without scrolling sideways.

/** Runs in the page: the problems of the current view, as sentences. */
function measure() {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => {
    const text = (el.getAttribute("aria-label") || el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? `.${el.className.split(" ")[0]}` : ""} "${text}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden" && el.getClientRects().length > 0;
  };
  if (document.documentElement.scrollWidth > width)
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width} px`);
  // Boxes that clip or scroll what is inside them.
  for (const el of document.querySelectorAll(
    "main td, main th, main .card, main .table-wrap, main li, main dd, main .notice, header, footer",
  )) {
    // A table's header row is read by screen readers only where the table shows as cards.
    if (!shown(el) || el.closest("thead")) continue;
    if (el.scrollWidth > el.clientWidth + 1)
      problems.push(`${name(el)} is cut: content ${el.scrollWidth} px in a box of ${el.clientWidth} px`);
  }
  // Everything one can read or press lies inside the window.
  for (const el of document.querySelectorAll("main *, header *")) {
    if (!shown(el) || el.closest("thead")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1)
      problems.push(`${name(el)} lies outside the window: ${Math.round(box.left)}..${Math.round(box.right)} of ${width} px`);
  }
  return problems;
}

/** The problems of the view now in `page` (empty when everything fits). */
export function misfits(page) {
  return page.evaluate(measure);
}

/**
 * The actions on the page: every enabled button and every link styled as one, by accessible name,
 * with whether its box is inside the window (scrolled into view first, as a person would).
 */
export async function actions(page) {
  const handles = await page
    .locator("main button:not([disabled]), main a.button, main summary, main input, main select, main textarea")
    .all();
  const found = [];
  for (const handle of handles) {
    if (!(await handle.isVisible())) continue;
    await handle.scrollIntoViewIfNeeded();
    const name =
      (await handle.getAttribute("aria-label")) || (await handle.textContent()).trim() || (await handle.getAttribute("name")) || "";
    const inside = await handle.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return box.left >= -1 && box.right <= document.documentElement.clientWidth + 1 && box.width > 0;
    });
    found.push({ name: name.replace(/\s+/g, " "), inside });
  }
  return found;
}
