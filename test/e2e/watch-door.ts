/**
 * The truth tables' model written into a Kubernetes API server double that
 * the server follows: each write is answered once the server's model is the
 * double's objects.
 */
import { converged } from "../helpers/follow.js";
import type { Kind, KubeApiServer, Manifest } from "../helpers/kube-apiserver.js";
import type { ModelDoor } from "./cluster-api.js";

type Object = Record<string, unknown>;

const meta = (o: Object) => o["metadata"] as { name: string; namespace?: string };

export class WatchDoor implements ModelDoor {
  constructor(
    private readonly double: KubeApiServer,
    private readonly server: { readonly url: string },
  ) {}

  private has(o: Object): boolean {
    return this.double.objects(o["kind"] as Kind).some((x) => x.metadata.name === meta(o).name && x.metadata.namespace === meta(o).namespace);
  }

  async reset(objects: readonly Object[]): Promise<void> {
    const wanted = new Set(objects.map((o) => `${o["kind"]}/${meta(o).namespace ?? ""}/${meta(o).name}`));
    for (const kind of ["NetworkPolicy", "Pod", "Node", "Namespace"] as const) {
      for (const o of this.double.objects(kind)) {
        if (!wanted.has(`${kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`)) this.double.delete(kind, o.metadata.namespace, o.metadata.name);
      }
    }
    await this.apply(objects);
  }

  async apply(objects: readonly Object[]): Promise<void> {
    for (const o of objects) {
      const m = o as unknown as Manifest;
      if (this.has(o)) this.double.update(m);
      else this.double.create(m);
    }
    await converged(this.server.url, this.double, "the server following the writes");
  }

  async delete(kind: "Pod" | "NetworkPolicy", ns: string, name: string): Promise<void> {
    this.double.delete(kind, ns, name);
    await converged(this.server.url, this.double, `the server following the delete of ${kind} ${ns}/${name}`);
  }
}
