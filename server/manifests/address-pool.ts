/** The made-up addresses workloads' pods get offline (see workloads.ts). */
import { parseAddress, parseCidr } from "../policy/address.js";

/** 198.18.0.0/15, set aside for benchmarking (RFC 2544): no cluster routes it, so it stands out as made up. */
export const POOL_TEXT = "198.18.0.0/15";
const POOL_FIRST = 198 * 2 ** 24 + 18 * 2 ** 16 + 1;
const POOL_LAST = 198 * 2 ** 24 + 19 * 2 ** 16 + 255 * 2 ** 8 + 254;

/**
 * The pool's addresses in order, past every IPv4 address the input writes
 * (pods' and nodes' addresses, or any other) and every CIDR that holds part
 * of the pool: a policy's ipBlock of 198.18.0.0/16 stays clear of the made
 * pods. A CIDR that holds the whole pool cannot be kept clear of, and holds
 * any pod address alike.
 */
export class AddressPool {
  private readonly used = new Set<number>();
  /** [first, last] ranges of the pool, sorted by first. */
  private readonly blocked: [number, number][] = [];
  private cursor = POOL_FIRST;
  private block = 0;

  constructor(values: readonly unknown[]) {
    const stack = [...values];
    // YAML aliases share values: each is walked once.
    const seen = new Set<object>();
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === "string") this.see(v);
      else if (typeof v === "object" && v !== null && !seen.has(v)) {
        seen.add(v);
        for (const x of Object.values(v)) stack.push(x);
      }
    }
    this.blocked.sort((a, b) => a[0] - b[0]);
  }

  private see(text: string): void {
    // Every IPv4 text has a dot; the longest is an IPv4-mapped IPv6 CIDR.
    if (text.length > 48 || !text.includes(".")) return;
    if (text.includes("/")) {
      const c = parseCidr(text, "legacy");
      if (c?.family !== "ipv4") return;
      const first = toNumber(c.bytes);
      const last = first + 2 ** (32 - c.prefix) - 1;
      if (last >= POOL_FIRST && first <= POOL_LAST && !(first <= POOL_FIRST && last >= POOL_LAST)) this.blocked.push([first, last]);
      return;
    }
    const a = parseAddress(text, "legacy");
    if (a?.family === "ipv4") this.used.add(toNumber(a.bytes));
  }

  /** The next free address, or undefined when the pool is spent. */
  next(): string | undefined {
    while (this.cursor <= POOL_LAST) {
      const n = this.cursor++;
      while (this.block < this.blocked.length && this.blocked[this.block]![1] < n) this.block++;
      const b = this.blocked[this.block];
      if (b !== undefined && b[0] <= n) this.cursor = b[1] + 1;
      else if (!this.used.has(n)) return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
    }
    return undefined;
  }
}

function toNumber(bytes: readonly number[]): number {
  return bytes.reduce((n, b) => n * 256 + b, 0);
}
