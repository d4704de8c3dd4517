import { describe, expect, it } from "vitest";
import { type Release, rankReleases, type WantedBook, words } from "../../src/services/releases";

const MB = 1024 * 1024;
const GB = 1024 * MB;

function release(title: string, extra: Partial<Release> = {}): Release {
  return {
    guid: `guid:${title}:${JSON.stringify(extra)}`,
    title,
    size: 600 * MB,
    seeders: 10,
    indexer: "MyAnonamouse",
    freeleech: false,
    protocol: "torrent",
    downloadUrl: "http://prowlarr.lan:9696/1/download?link=abc",
    magnetUrl: null,
    infoHash: null,
    ...extra,
  };
}

const wellOfAscension: WantedBook = {
  title: "The Well of Ascension",
  author: "Brandon Sanderson",
  seriesName: "Mistborn",
  seriesNumber: "2",
};
// A gap from series analysis: its title is only the series and the position.
const expanseGap: WantedBook = { title: "The Expanse #3", author: "James S. A. Corey", seriesName: "The Expanse", seriesNumber: "3" };
const projectHailMary: WantedBook = { title: "Project Hail Mary", author: "Andy Weir", seriesName: null, seriesNumber: null };
const dune: WantedBook = { title: "Dune", author: "Frank Herbert", seriesName: "Dune", seriesNumber: "1" };
// A series gap whose real title came from the Audible catalogue.
const oathbringer: WantedBook = {
  title: "Oathbringer",
  author: "Brandon Sanderson",
  seriesName: "The Stormlight Archive",
  seriesNumber: "3",
};

/** [wanted, release title, extra fields, expected reason] */
const TABLE: [WantedBook, string, Partial<Release>, string][] = [
  // the series and the position, written every way
  [expanseGap, "The Expanse, Book 3 - Abaddon's Gate by James S. A. Corey [ENG / M4B]", {}, "series_position"],
  [expanseGap, "Abaddon's Gate (The Expanse #03) by James S. A. Corey [ENG / MP3]", {}, "series_position"],
  [expanseGap, "The Expanse Vol. 3: Abaddon's Gate - James S.A. Corey (Unabridged)", {}, "series_position"],
  [expanseGap, "James S. A. Corey - The Expanse 03 - Abaddon's Gate [M4B]", {}, "series_position"],
  [expanseGap, "Abaddon's Gate: Expanse, Volume 3 by James Corey [ENG / M4B]", {}, "series_position"],
  [expanseGap, "Abaddons Gate [The Expanse, Book No. 3] by James S. A. Corey", {}, "series_position"],
  // another book of the same series
  [expanseGap, "The Expanse, Book 4 - Cibola Burn by James S. A. Corey [ENG / M4B]", {}, "other_position"],
  [expanseGap, "Caliban's War (The Expanse #2) by James S. A. Corey [ENG / MP3]", {}, "other_position"],
  [expanseGap, "The Expanse #13 by James S. A. Corey", {}, "other_position"],
  // omnibus and range packs
  [expanseGap, "The Expanse Books 1-9 by James S. A. Corey [ENG / M4B]", { size: 14 * GB }, "too_large"],
  [expanseGap, "The Expanse Books 1-3 by James S. A. Corey [ENG / M4B]", { size: 3 * GB }, "omnibus_pack"],
  [expanseGap, "The Expanse #1-#4 by James S. A. Corey", { size: 3 * GB }, "omnibus_pack"],
  [expanseGap, "The Expanse Complete Series Box Set by James S. A. Corey", { size: 4 * GB }, "omnibus_pack"],
  [expanseGap, "The Expanse Omnibus (Book 3) by James S. A. Corey", {}, "omnibus_pack"],
  // the wrong author
  [expanseGap, "The Expanse, Book 3 by John Scalzi [ENG / M4B]", {}, "author_mismatch"],
  [wellOfAscension, "The Well of Ascension by Brandon Mull [ENG / M4B]", {}, "author_mismatch"],
  // by title
  [wellOfAscension, "The Well of Ascension by Brandon Sanderson [ENG / M4B]", {}, "title"],
  [wellOfAscension, "Brandon Sanderson - Mistborn 02 - The Well of Ascension (Unabridged)", {}, "series_position"],
  [wellOfAscension, "Well of Ascension, The by Brandon Sanderson [ENG / MP3]", {}, "title"],
  [wellOfAscension, "The Final Empire (Mistborn #1) by Brandon Sanderson", {}, "other_position"],
  [wellOfAscension, "The Hero of Ages by Brandon Sanderson [ENG / M4B]", {}, "title_mismatch"],
  [projectHailMary, "Project Hail Mary by Andy Weir [ENG / M4B]", {}, "title"],
  [projectHailMary, "Project Hail Mary: A Novel by Andy Weir [ENG / MP3]", {}, "title"],
  [projectHailMary, "PROJECT HAIL MARY - Andy Weir - 2021 - Ray Porter", {}, "title"],
  [projectHailMary, "The Martian by Andy Weir [ENG / M4B]", {}, "title_mismatch"],
  [projectHailMary, "Project Hail Mary by Andy Weir [ENG / EPUB]", { size: 2 * MB }, "too_small"],
  [dune, "Dune Messiah by Frank Herbert [ENG / M4B]", {}, "title_mismatch"],
  [dune, "Dune by Frank Herbert [ENG / M4B]", {}, "title"],
  [dune, "Dune (Dune Chronicles, Book 1) by Frank Herbert", {}, "series_position"],
  // MyAnonamouse through Prowlarr: "{title} by {first author} [{lang} / {filetype}]" (+ " [VIP]"), no series
  [oathbringer, "Oathbringer by Brandon Sanderson [ENG / M4B]", {}, "title"],
  [oathbringer, "Oathbringer by Brandon Sanderson [ENG / MP3] [VIP]", {}, "title"],
  [oathbringer, "Oathbringer by Brandon Mull [ENG / M4B]", {}, "author_mismatch"],
  [oathbringer, "Sanderson's Oathbringer Companion by Jane Doe [ENG / M4B]", {}, "author_mismatch"],
  [oathbringer, "Words of Radiance by Brandon Sanderson [ENG / M4B]", {}, "title_mismatch"],
  [oathbringer, "The Stormlight Archive Books 1-4 by Brandon Sanderson [ENG / M4B]", { size: 6 * GB }, "omnibus_pack"],
  [oathbringer, "Stormlight Archive Boxed Set by Brandon Sanderson [ENG / M4B]", { size: 7 * GB }, "omnibus_pack"],
  // other indexers' orders
  [oathbringer, "Brandon Sanderson - Oathbringer", {}, "title"],
  [oathbringer, "Brandon Sanderson - The Stormlight Archive 03 - Oathbringer [M4B]", {}, "series_position"],
  [oathbringer, "Brandon Sanderson - The Stormlight Archive 02 - Words of Radiance", {}, "other_position"],
  [oathbringer, "Brandon Mull - Oathbringer", {}, "author_mismatch"],
  // releases that cannot be fetched
  [projectHailMary, "Project Hail Mary by Andy Weir [ENG / M4B]", { seeders: 0 }, "no_seeders"],
  [projectHailMary, "Project Hail Mary by Andy Weir [ENG / M4B]", { downloadUrl: null }, "no_link"],
  [projectHailMary, "Project Hail Mary by Andy Weir", { protocol: "usenet" }, "not_torrent"],
];

describe("rankReleases: matching", () => {
  const rows = TABLE.map(([wanted, title, extra, expected]) => ({ book: wanted.title, wanted, title, extra, expected }));
  it.each(rows)("$book: $title → $expected", ({ wanted, title, extra, expected }) => {
    const [decision] = rankReleases(wanted, [release(title, extra)]).decisions;
    expect(decision?.reason, decision?.detail).toBe(expected);
    expect(decision?.accepted).toBe(expected === "series_position" || expected === "title");
  });

  it("has at least 20 real-looking titles", () => {
    expect(new Set(TABLE.map(([, title]) => title)).size).toBeGreaterThanOrEqual(20);
  });

  it("normalises case, punctuation, articles, accents and leading zeros", () => {
    expect(words("The Expanse, Book 03: Abaddon's Gate")).toEqual(["expanse", "book", "3", "abaddons", "gate"]);
    expect(words("Les Misérables & A Tale")).toEqual(["les", "miserables", "and", "tale"]);
  });
});

describe("rankReleases: choosing the best", () => {
  it("prefers freeleech, then seeders, then a sensible size", () => {
    const title = "Project Hail Mary by Andy Weir [ENG / M4B]";
    const releases = [
      release(title, { guid: "many-seeders", seeders: 90 }),
      release(title, { guid: "freeleech", seeders: 3, freeleech: true }),
      release(title, { guid: "freeleech-more", seeders: 4, freeleech: true, size: 6 * GB }),
      release(title, { guid: "freeleech-more-sensible", seeders: 4, freeleech: true }),
    ];
    const ranking = rankReleases(projectHailMary, releases);
    expect(ranking.best?.guid).toBe("freeleech-more-sensible");
    expect(ranking.decisions.map((d) => [d.guid, d.rank])).toEqual([
      ["freeleech-more-sensible", 1],
      ["freeleech-more", 2],
      ["freeleech", 3],
      ["many-seeders", 4],
    ]);
  });

  it("queues nothing when nothing matches, and says why for each release", () => {
    const ranking = rankReleases(expanseGap, [
      release("The Expanse, Book 4 - Cibola Burn by James S. A. Corey"),
      release("The Expanse Books 1-3 by James S. A. Corey"),
      release("Leviathan Wakes by James S. A. Corey"),
    ]);
    expect(ranking.best).toBeNull();
    expect(ranking.decisions.map((d) => [d.reason, d.rank])).toEqual([
      ["other_position", null],
      ["omnibus_pack", null],
      ["title_mismatch", null],
    ]);
    expect(ranking.decisions.every((d) => d.detail.length > 0)).toBe(true);
  });

  it("lists the accepted releases first, then the refused ones in search order", () => {
    const ranking = rankReleases(expanseGap, [
      release("The Expanse Books 1-3 by James S. A. Corey"),
      release("The Expanse, Book 3 by James S. A. Corey", { guid: "ok" }),
      release("The Expanse, Book 3 by John Scalzi"),
    ]);
    expect(ranking.decisions.map((d) => d.reason)).toEqual(["series_position", "omnibus_pack", "author_mismatch"]);
    expect(ranking.best?.guid).toBe("ok");
  });

  it("refuses an abridged edition when the unabridged one was found, and takes it when it is all there is", () => {
    const abridged = release("Oathbringer (Abridged) by Brandon Sanderson [ENG / MP3]", { guid: "abridged", seeders: 80, freeleech: true });
    const unabridged = release("Oathbringer (Unabridged) by Brandon Sanderson [ENG / M4B]", { guid: "unabridged", seeders: 2 });
    const both = rankReleases(oathbringer, [abridged, unabridged]);
    expect(both.best?.guid).toBe("unabridged");
    expect(both.decisions.map((d) => [d.guid, d.reason, d.accepted])).toEqual([
      ["unabridged", "title", true],
      ["abridged", "abridged", false],
    ]);
    expect(rankReleases(oathbringer, [abridged]).best?.guid).toBe("abridged");
  });

  it("refuses a release its tags say is in another language, reads none into tags that are no language, and refuses nothing without a language asked", () => {
    const releases = [
      release("Oathbringer by Brandon Sanderson [GER / M4B]", { guid: "ger", seeders: 90, freeleech: true }),
      release("Oathbringer by Brandon Sanderson [SPA]", { guid: "spa", seeders: 80 }),
      release("Brandon Sanderson - Oathbringer [BBC] [M4B] [Retail / 64kbps]", { guid: "tags", seeders: 3 }),
      release("Oathbringer by Brandon Sanderson [ENG / M4B]", { guid: "eng", seeders: 2 }),
      release("Oathbringer by Brandon Sanderson", { guid: "untagged", seeders: 1 }),
    ];
    const english = rankReleases(oathbringer, releases, { language: "ENG" });
    expect(english.best?.guid).toBe("tags");
    expect(english.decisions.map((d) => [d.guid, d.reason, d.detail])).toEqual([
      ["tags", "title", 'names "Oathbringer"'],
      ["eng", "title", 'names "Oathbringer"'],
      ["untagged", "title", 'names "Oathbringer"'],
      ["ger", "language", "in GER, not ENG (RELEASE_LANGUAGE)"],
      ["spa", "language", "in SPA, not ENG (RELEASE_LANGUAGE)"],
    ]);
    expect(rankReleases(oathbringer, releases, { language: "GER" }).best?.guid).toBe("ger");
    expect(rankReleases(oathbringer, releases, { language: null }).best?.guid).toBe("ger");
    expect(rankReleases(oathbringer, releases).best?.guid).toBe("ger");
  });

  it("answers an empty search with no best and no decisions", () => {
    expect(rankReleases(dune, [])).toEqual({ best: null, decisions: [] });
  });
});
