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
