// A real single-file torrent (BEP 3), bencoded, with the SHA-1 of every piece of a file that
// exists: qBittorrent checks that file and seeds it.
import { createHash } from "node:crypto";

export function bencode(value) {
  if (typeof value === "number") return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === "string") return bencode(Buffer.from(value));
  if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.from(`${value.length}:`), value]);
  if (Array.isArray(value)) return Buffer.concat([Buffer.from("l"), ...value.map(bencode), Buffer.from("e")]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from("d"), ...keys.flatMap((k) => [bencode(k), bencode(value[k])]), Buffer.from("e")]);
}

const PIECE = 16 * 1024;

/** The torrent of `content` named `name`: its bytes and its info hash. No tracker: nothing to announce to. */
export function torrentOf(name, content) {
  const pieces = [];
  for (let at = 0; at < content.length; at += PIECE)
    pieces.push(
      createHash("sha1")
        .update(content.subarray(at, at + PIECE))
        .digest(),
    );
  const info = { length: content.length, name, "piece length": PIECE, pieces: Buffer.concat(pieces), private: 1 };
  return { bytes: bencode({ "created by": "mamcrawler-api test", info }), hash: createHash("sha1").update(bencode(info)).digest("hex") };
}
