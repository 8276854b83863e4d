/**
 * UTF-8 text encoding. `TextEncoder` is a global of every JavaScript runtime
 * Effect runs on; it is declared here so that core needs neither the DOM
 * library nor Node's types.
 */
interface Encoder {
  encode(input: string): Uint8Array
}
declare const TextEncoder: new() => Encoder

const encoder = new TextEncoder()

/** Encodes a string as UTF-8. */
export const encodeUtf8 = (input: string): Uint8Array => encoder.encode(input)

/** Encodes a string as Latin-1: each UTF-16 code unit's low byte. */
export const encodeLatin1 = (input: string): Uint8Array => {
  const out = new Uint8Array(input.length)
  for (let i = 0; i < input.length; i++) out[i] = input.charCodeAt(i) & 0xff
  return out
}

/** Chunks with text, every string encoded in `encoding`. */
export const encodeChunks = (
  chunks: ReadonlyArray<Uint8Array | string>,
  encoding: "utf8" | "latin1"
): Array<Uint8Array> => {
  const out = new Array<Uint8Array>(chunks.length)
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!
    out[i] = typeof c !== "string" ? c : encoding === "utf8" ? encodeUtf8(c) : encodeLatin1(c)
  }
  return out
}
