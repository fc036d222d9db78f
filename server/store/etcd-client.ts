/**
 * How the etcd3 client is set up for the store, and how its failures are
 * read: the way to etcd failing (retry, say unreachable) versus the request
 * failing (too large), and a watch history compacted away.
 */
import { ClientClosedError, type IOptions, isRecoverableError } from "etcd3";

export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 2000;

type FaultHandling = NonNullable<IOptions["faultHandling"]>;
type CallPolicy = NonNullable<FaultHandling["global"]>;
type WatchBackoff = NonNullable<FaultHandling["watchBackoff"]>;

/**
 * Tries the call once per endpoint while the failure is the endpoint's, not
 * the request's. The client's default retries every recoverable failure three
 * times and then stops calling a host for five seconds: a request that is too
 * large would then make etcd look unreachable, and a restarted etcd would stay
 * unused for seconds after it is back.
 */
export function oncePerEndpoint(endpoints: number): CallPolicy {
  const policy = {
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
      let last: unknown;
      for (let i = 0; i < endpoints; i++) {
        try {
          return await fn({ signal: new AbortController().signal });
        } catch (e) {
          if (!(e instanceof Error) || !isRecoverableError(e) || isTooLarge(e)) throw e;
          last = e;
        }
      }
      throw last;
    },
  };
  // The client only ever calls execute().
  return policy as unknown as CallPolicy;
}

/** No per-host policy: the per-call one above decides. */
export const passThrough = {
  execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) => fn({ signal: new AbortController().signal }),
} as unknown as CallPolicy;

/** Capped so that a watch is back within a couple of seconds of etcd. */
export function watchBackoff(attempt = 0): ReturnType<WatchBackoff["next"]> {
  const ms = Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS);
  return { duration: ms / 2 + Math.random() * (ms / 2), next: () => watchBackoff(attempt + 1) };
}

export function isTooLarge(e: Error): boolean {
  // etcd's own checks, and gRPC's limit of a request's size that etcd sets a little above --max-request-bytes.
  return /too many operations in txn request|request is too large|larger than max/i.test(e.message);
}

export class Timeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Failures of the way to etcd, not of the request: etcd down, no leader, no answer in time. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof Timeout || e instanceof ClientClosedError || (e instanceof Error && isRecoverableError(e));
}

export function isCompacted(e: unknown): boolean {
  return e instanceof Error && /required revision has been compacted/.test(e.message);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The smallest key after every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
