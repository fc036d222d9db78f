/** A store that keeps nothing: `--in-memory`, tests and offline commands. Commits are delivered before commit() returns. */
import { randomUUID } from "node:crypto";
import type { Change, Commit, Store, StoreHealth, StoredModel } from "./types.js";
import { StoreConflict } from "./types.js";

export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly location = "memory";
  private readonly id = randomUUID();
  private generation = 0;
  private follow: ((c: Commit) => void) | undefined;

  async open(follow: (c: Commit) => void): Promise<StoredModel> {
    this.follow = follow;
    return { id: this.id, generation: this.generation, manifests: [] };
  }

  async commit(changes: readonly Change[], base: number): Promise<number> {
    if (base !== this.generation) throw new StoreConflict(this.generation);
    this.generation++;
    this.follow?.({ generation: this.generation, changes });
    return this.generation;
  }

  health(): StoreHealth {
    return { writable: true };
  }

  async close(): Promise<void> {
    this.follow = undefined;
  }
}
