/**
 * UTF-8 text encoding. `TextEncoder` / `TextDecoder` are globals of every
 * JavaScript runtime Effect runs on; they are declared here so that core needs
 * neither the DOM library nor Node's types.
 */
interface Encoder {
  encode(input: string): Uint8Array
}
interface Decoder {
  decode(input?: Uint8Array, options?: { readonly stream?: boolean }): string
}
declare const TextEncoder: new() => Encoder
declare const TextDecoder: new(label?: string) => Decoder

const encoder = new TextEncoder()

/** Encodes a string as UTF-8. */
export const encodeUtf8 = (input: string): Uint8Array => encoder.encode(input)

/** A streaming UTF-8 decoder. */
export const makeDecoder = (): Decoder => new TextDecoder("utf-8")
