/**
 * Just enough BitTorrent metainfo for the fakes: a single-file torrent as bytes (bencoded, keys
 * sorted as BEP 3 requires) and the info hash qBittorrent would give it (SHA-1 of the bencoded
 * `info` dictionary).
 */

type Bencodable = number | string | Uint8Array | Bencodable[] | { [key: string]: Bencodable };

const utf8 = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function bencode(value: Bencodable): Uint8Array {
  if (typeof value === "number") return utf8.encode(`i${Math.trunc(value)}e`);
  if (typeof value === "string") return bencode(utf8.encode(value));
  if (value instanceof Uint8Array) return concat([utf8.encode(`${value.length}:`), value]);
  if (Array.isArray(value)) return concat([utf8.encode("l"), ...value.map(bencode), utf8.encode("e")]);
  const keys = Object.keys(value).sort();
  return concat([utf8.encode("d"), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), utf8.encode("e")]);
}

export interface TorrentFile {
  bytes: Uint8Array;
  /** Lower-case hex SHA-1 of the bencoded info dictionary. */
  hash: string;
  name: string;
}

/** A single-file torrent named `name` of `length` bytes (piece hashes made up: fakes never check them). */
export async function makeTorrent(name: string, length = 1024): Promise<TorrentFile> {
  const pieceLength = 16384;
  const pieces = new Uint8Array(20 * Math.max(1, Math.ceil(length / pieceLength)));
  const info = { length, name, "piece length": pieceLength, pieces, private: 1 };
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bencode(info)));
  const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes: bencode({ announce: "http://tracker.invalid/announce", info }), hash, name };
}

/** Reads `info.name` back and hashes `info` of a torrent's bytes; null for anything that is not a torrent. */
export async function readTorrent(bytes: Uint8Array): Promise<{ hash: string; name: string } | null> {
  const text = new TextDecoder("latin1").decode(bytes);
  const start = text.indexOf("4:infod");
  if (!text.startsWith("d") || start < 0) return null;
  const end = skip(text, start + 6);
  if (end < 0) return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes.slice(start + 6, end)));
  const name = /4:name(\d+):/.exec(text.slice(start, end));
  const nameAt = name ? start + name.index + name[0].length : 0;
  const nameText = name ? text.slice(nameAt, nameAt + Number(name[1])) : "";
  return { hash: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), name: nameText };
}

/** The index just past the bencoded value starting at `at`, or -1. */
function skip(text: string, at: number): number {
  const c = text[at];
  if (c === "i") {
    const end = text.indexOf("e", at);
    return end < 0 ? -1 : end + 1;
  }
  if (c === "l" || c === "d") {
    let i = at + 1;
    while (i > 0 && i < text.length && text[i] !== "e") i = skip(text, i);
    return i > 0 && i < text.length ? i + 1 : -1;
  }
  const colon = text.indexOf(":", at);
  if (colon < 0 || !/^\d+$/.test(text.slice(at, colon))) return -1;
  return colon + 1 + Number(text.slice(at, colon));
}
