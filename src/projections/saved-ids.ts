/**
 * The ids a collection has saved since its table was emptied, as a Bloom filter: "surely never
 * saved" or "maybe saved". A rebuild starts from empty tables, so a document it has not saved is
 * known to be absent and its first `get` needs no SELECT. A fixed number of bits keeps memory
 * bounded whatever the history; as it fills, more answers are "maybe" and cost the SELECT they
 * cost before (never a wrong "absent": an id added is always found).
 */
export class SavedIds {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  /** `log2Bits` sets the size: 23 is 8 Mi bits (1 MiB), under 3 % false "maybe" at a million ids. */
  constructor(log2Bits = 23) {
    this.bits = new Uint32Array(2 ** (log2Bits - 5));
    this.mask = 2 ** log2Bits - 1;
  }

  add(id: string): void {
    let [a, b] = hashes(id);
    for (let i = 0; i < PROBES; i++, a = (a + b) >>> 0) {
      const bit = a & this.mask;
      (this.bits[bit >>> 5] as number) |= 1 << (bit & 31);
    }
  }

  /** False only for an id never added. */
  mayHave(id: string): boolean {
    let [a, b] = hashes(id);
    for (let i = 0; i < PROBES; i++, a = (a + b) >>> 0) {
      const bit = a & this.mask;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

const PROBES = 3;
const pair: [number, number] = [0, 0];

/** Two 32-bit hashes of a string (FNV-1a and a multiplicative one) for double hashing. */
function hashes(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  pair[0] = a >>> 0;
  pair[1] = (b | 1) >>> 0; // odd: the probes differ
  return pair;
}
