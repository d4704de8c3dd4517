/**
 * The body as text, read as it streams and abandoned past `maxBytes` (undefined then), so an
 * endless or huge answer costs at most that much memory and the time to read it.
 */
export async function readAtMost(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get("Content-Length") ?? "");
  if (declared > maxBytes || !res.body) {
    await res.body?.cancel();
    return res.body ? undefined : "";
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let read = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (read > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
