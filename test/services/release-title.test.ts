import { describe, expect, it } from "vitest";
import { parseReleaseTitle } from "../../src/services/release-title";

describe("parseReleaseTitle", () => {
  it.each([
    [
      "Oathbringer by Brandon Sanderson [ENG / M4B]",
      { form: "title_by_author", title: "Oathbringer", author: "Brandon Sanderson", vip: false, abridged: false },
    ],
    ["Stand by Me by Stephen King [ENG / MP3] [VIP]", { form: "title_by_author", title: "Stand by Me", author: "Stephen King", vip: true }],
    ["Brandon Sanderson - Wind and Truth", { form: "author_title", title: "Wind and Truth", author: "Brandon Sanderson" }],
    [
      "Brandon Sanderson - Mistborn 02 - The Well of Ascension",
      { form: "author_series_title", author: "Brandon Sanderson", series: "Mistborn", position: "2", title: "The Well of Ascension" },
    ],
    [
      "James S. A. Corey - The Expanse, Book 3 - Abaddon's Gate",
      { form: "author_series_title", series: "The Expanse", position: "3", title: "Abaddon's Gate" },
    ],
    ["Dune (Abridged) by Frank Herbert [ENG / MP3]", { abridged: true }],
    ["Dune (Unabridged) by Frank Herbert [ENG / MP3]", { abridged: false }],
    ["Dune", { form: "bare", title: "Dune", author: null }],
  ])("reads %j", (title, expected) => {
    expect(parseReleaseTitle(title)).toMatchObject(expected);
  });
});
