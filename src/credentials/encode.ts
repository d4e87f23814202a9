// Maps random bytes onto an alphabet of 2^k symbols by slicing the bits k at a time. Every
// symbol then takes exactly k fresh uniform bits: no modulo, hence no bias, and no bits wasted.
export function encodeBits(bytes: Uint8Array, alphabet: string): string {
  const bitsPerSymbol = Math.log2(alphabet.length);
  if (!Number.isInteger(bitsPerSymbol) || (bytes.length * 8) % bitsPerSymbol !== 0) {
    throw new RangeError("alphabet size must be a power of two that divides the input bits evenly");
  }
  let out = "";
  let buffer = 0;
  let buffered = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    buffered += 8;
    while (buffered >= bitsPerSymbol) {
      buffered -= bitsPerSymbol;
      out += alphabet.charAt((buffer >> buffered) & (alphabet.length - 1));
    }
    // Keep only the bits not yet emitted, so the buffer never exceeds 8 + k bits.
    buffer &= (1 << buffered) - 1;
  }
  return out;
}
